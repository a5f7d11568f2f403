// /v1/reports and /v1/templates: shared reports, and message templates.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  IdParams,
  MessageResponse,
  MessagesResponse,
  ReportBody,
  ReportsQuery,
  SendResponse,
  TemplateBody,
  TemplateParams,
  TemplateResponse,
  TemplateSendBody,
  TemplateSendResponse,
  TemplatesResponse,
} from '../../api/schemas.js';
import { wireMessage } from '../../api/wire.js';
import type { Hub } from '../../hub/hub.js';
import type { TemplateView } from '../../hub/templates.js';

const wireTemplate = (t: TemplateView) => ({
  name: t.name,
  body: t.body,
  updated_by: t.updatedBy,
  updated_at: t.updatedAt === 0 ? null : new Date(t.updatedAt).toISOString(),
  source: t.source,
});

export function reportRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/reports', {
      schema: { summary: 'Post a markdown report (a report message, default to #reports)', body: ReportBody, response: { 201: SendResponse } },
      handler: async (req, reply) => {
        await hub.chargeSend(req.actor);
        const r = await hub.reports.post(req.actor, req.body);
        return reply.code(201).send({ message: wireMessage(r.message), recipients: r.recipients, duplicate: r.duplicate });
      },
    });
    app.get('/reports', {
      schema: { summary: 'Reports the caller may see, newest first', querystring: ReportsQuery, response: { 200: MessagesResponse } },
      handler: async (req) => ({ messages: (await hub.reports.list(req.actor, req.query)).map(wireMessage) }),
    });
    app.get('/reports/:id', {
      schema: { summary: 'One report', params: IdParams, response: { 200: MessageResponse } },
      handler: async (req) => {
        const { message, recipients } = await hub.reports.show(req.actor, req.params.id);
        return { message: wireMessage(message), recipients };
      },
    });

    app.get('/templates', {
      schema: { summary: 'Message templates (saved, and the configured onboarding/wrap-up)', response: { 200: TemplatesResponse } },
      handler: async (req) => ({ templates: (await hub.templates.list(req.actor)).map(wireTemplate) }),
    });
    app.get('/templates/:name', {
      schema: { summary: 'One template', params: TemplateParams, response: { 200: TemplateResponse } },
      handler: async (req) => ({ template: wireTemplate(await hub.templates.view(req.actor, req.params.name)) }),
    });
    app.put('/templates/:name', {
      schema: { summary: 'Save a template (captains and admins); unknown {placeholders} are refused', params: TemplateParams, body: TemplateBody, response: { 200: TemplateResponse } },
      handler: async (req) => ({ template: wireTemplate(await hub.templates.set(req.actor, req.params.name, req.body.body)) }),
    });
    app.post('/templates/send', {
      schema: { summary: 'Send a template to one agent or all, filled in for each recipient', body: TemplateSendBody, response: { 200: TemplateSendResponse } },
      handler: async (req) => {
        const sent = await hub.onboarding.broadcastTemplate(req.actor, req.body.template, req.body.to, { subject: req.body.subject, priority: req.body.priority });
        return { message_ids: sent.map((s) => s.message.id), recipients: sent.flatMap((s) => s.recipients) };
      },
    });
  };
}

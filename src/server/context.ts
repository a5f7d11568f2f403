// What a /v1 request carries once authenticated.
import type { Actor } from '../hub/actor.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every /v1 route. */
    actor: Actor;
  }
}

export const AS_HEADER = 'x-swarm-as';

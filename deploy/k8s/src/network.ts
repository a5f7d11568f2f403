// Who may talk to whom, and the way in from outside.
//
// NetworkPolicies (enforced by the cluster's CNI: Calico, Cilium, …; ignored by one without):
// - every hub pod denies all traffic in and out unless a policy below allows it;
// - only the ingress controller reaches api (8080) and config (8081); Prometheus scrapes /metrics
//   on every tier's port (the one other caller: without it the alerts see nothing);
// - hub pods reach DNS and PostgreSQL (5432; a managed database by CIDR, or PostgreSQL pods in the
//   namespace by label); the handlers also reach HTTP(S) anywhere: they push to webhook targets;
// - PostgreSQL pods in the namespace accept only hub pods (the three tiers and the migration Job).
// The kubelet's probes come from the node and are not subject to these policies.
//
// Ingress: TLS from cert-manager (the annotation names the ClusterIssuer; cert-manager writes the
// certificate into the Secret swarm-tls), /v1/config to the config tier, everything else to api.
import { type IIngress, Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { type INetworkPolicy, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import { componentOf, HUB_PODS, labels, selector } from './labels.js';
import { INGRESS, INGRESS_CONTROLLER, MONITORING_NAMESPACE, POSTGRES, tier, TIERS } from './topology.js';

const inNamespace = (name: string): INetworkPolicyPeer['namespaceSelector'] => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });

function policy(name: string, spec: NonNullable<INetworkPolicy['spec']>): INetworkPolicy {
  return new NetworkPolicy({ metadata: { name, labels: labels('network') }, spec }).toJSON() as INetworkPolicy;
}

const ingressController: INetworkPolicyPeer = { namespaceSelector: inNamespace(INGRESS_CONTROLLER.namespace), podSelector: { matchLabels: { ...INGRESS_CONTROLLER.podLabels } } };

export function networkPolicies(): INetworkPolicy[] {
  const fromIngress = (['swarm-api', 'swarm-config'] as const).map((name) => {
    const t = tier(name);
    return policy(`${name}-from-ingress`, {
      podSelector: { matchLabels: selector(componentOf(t)) },
      policyTypes: ['Ingress'],
      ingress: [{ from: [ingressController], ports: [{ protocol: 'TCP', port: t.port }] }],
    });
  });
  return [
    policy('swarm-default-deny', { podSelector: { matchLabels: HUB_PODS }, policyTypes: ['Ingress', 'Egress'] }),
    ...fromIngress,
    policy('swarm-from-prometheus', {
      podSelector: { matchLabels: HUB_PODS },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: inNamespace(MONITORING_NAMESPACE) }], ports: TIERS.map((t) => ({ protocol: 'TCP', port: t.port })) }],
    }),
    policy('swarm-to-dns-and-postgres', {
      podSelector: { matchLabels: HUB_PODS },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: inNamespace('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        { to: [{ ipBlock: { cidr: POSTGRES.cidr } }, { podSelector: { matchLabels: { ...POSTGRES.podLabels } } }], ports: [{ protocol: 'TCP', port: POSTGRES.port }] },
      ],
    }),
    policy('swarm-handlers-to-targets', {
      podSelector: { matchLabels: selector('handlers') },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ ipBlock: { cidr: '0.0.0.0/0' } }],
          ports: [
            { protocol: 'TCP', port: 443 },
            { protocol: 'TCP', port: 80 },
          ],
        },
      ],
    }),
    policy('swarm-postgres-from-hub', {
      podSelector: { matchLabels: { ...POSTGRES.podLabels } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: HUB_PODS } }], ports: [{ protocol: 'TCP', port: POSTGRES.port }] }],
    }),
  ];
}

/** limits.waitSeconds (300 s, the longest inbox long-poll) plus a margin; streams send heartbeats every 15 s. */
const PROXY_TIMEOUT_SECONDS = 330;

export function ingress(host: string, issuer: string): IIngress {
  const backend = (name: 'swarm-api' | 'swarm-config') => ({ service: { name, port: { name: 'http' } } });
  return new Ingress({
    metadata: {
      name: INGRESS,
      labels: labels('ingress'),
      annotations: {
        'cert-manager.io/cluster-issuer': issuer,
        'nginx.ingress.kubernetes.io/proxy-read-timeout': String(PROXY_TIMEOUT_SECONDS),
        'nginx.ingress.kubernetes.io/proxy-send-timeout': String(PROXY_TIMEOUT_SECONDS),
        // Above limits.bodyBytes (1 MiB): the hub answers a body too large itself (413 problem+json).
        'nginx.ingress.kubernetes.io/proxy-body-size': '2m',
      },
    },
    spec: {
      ingressClassName: INGRESS_CONTROLLER.className,
      tls: [{ hosts: [host], secretName: 'swarm-tls' }],
      rules: [
        {
          host,
          http: {
            paths: [
              { path: '/v1/config', pathType: 'Prefix', backend: backend('swarm-config') },
              { path: '/', pathType: 'Prefix', backend: backend('swarm-api') },
            ],
          },
        },
      ],
    },
  }).toJSON() as IIngress;
}

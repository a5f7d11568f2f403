// The original swarm (../shared/fixtures/original-swarm.json; test/coordination/fixtures holds a
// copy, and test/unit/demo-plan.test.ts keeps this one equal to it): eight agents, Agent-4 as
// captain, their specialties and contract points, and for `swarm demo` the contracts each agent
// works, fitting its specialty, whose points add up to its contract points.

export interface Contract {
  title: string;
  points: number;
  description: string;
}

export interface DemoAgent {
  id: string;
  role: 'agent' | 'captain';
  specialty: string;
  /** The capability its contracts ask for: only it fits them. */
  capability: string;
  contractPoints: number;
  contracts: Contract[];
}

export const CAPTAIN = 'Agent-4';
export const CHANNELS = ['#reports', '#reviews', '#deployments'] as const;

const c = (title: string, points: number, description: string): Contract => ({ title, points, description });

export const ORIGINAL_SWARM: readonly DemoAgent[] = [
  {
    id: 'Agent-1', role: 'agent', specialty: 'Integration & Core Systems', capability: 'core-systems', contractPoints: 600,
    contracts: [
      c('Unify the message bus adapters', 250, 'One adapter interface for the three buses the services still use.'),
      c('Contract tests for the core services', 200, 'Every core service answers the same suite before it ships.'),
      c('Retire the legacy polling loop', 150, 'Replace the 5-second inbox poll with the live stream.'),
    ],
  },
  {
    id: 'Agent-2', role: 'agent', specialty: 'Architecture & Design', capability: 'architecture', contractPoints: 550,
    contracts: [
      c('Draw the service boundaries', 200, 'Which service owns which data, written down in ARCHITECTURE.md.'),
      c('ADR: one store contract for every adapter', 150, 'Record the decision and the alternatives weighed.'),
      c('Design the task lease model', 200, 'Claims as leases on presence: timeouts, expiry, release.'),
    ],
  },
  {
    id: 'Agent-3', role: 'agent', specialty: 'Infrastructure & DevOps', capability: 'devops', contractPoints: 575,
    contracts: [
      c('Kubernetes manifests for api, config and handlers', 250, 'Three deployments on ports 8080-8082 with requests and limits.'),
      c('Rolling upgrade runbook', 125, 'Migrate first, then roll; how to roll back.'),
      c('Horizontal autoscaling for handlers', 200, 'From 5 replicas up under load, back down when idle.'),
    ],
  },
  { id: 'Agent-4', role: 'captain', specialty: 'Strategic Oversight & Quality Assurance', capability: 'qa', contractPoints: 0, contracts: [] },
  {
    id: 'Agent-5', role: 'agent', specialty: 'Business Intelligence', capability: 'bi', contractPoints: 425,
    contracts: [
      c('Throughput dashboard for the swarm', 175, 'Messages per second and contract points per cycle, per agent.'),
      c('Weekly contract points report', 100, 'Verified points per agent and specialty, week over week.'),
      c('Latency percentiles from the hub metrics', 150, 'p50, p95 and p99 of sends against the 50 ms target.'),
    ],
  },
  {
    id: 'Agent-6', role: 'agent', specialty: 'Coordination & Communication', capability: 'coordination', contractPoints: 500,
    contracts: [
      c('Channel etiquette guide', 100, 'What goes to #reports, #reviews and #deployments, and what does not.'),
      c('Onboarding checklist for new agents', 150, 'From first token to first verified task.'),
      c('Cross-team status cadence', 250, 'Who reports what to the captain, and when.'),
    ],
  },
  {
    id: 'Agent-7', role: 'agent', specialty: 'Web Development', capability: 'web', contractPoints: 685,
    contracts: [
      c('Dashboard roster view', 200, 'Presence, status and mission of every agent, live.'),
      c('Contract board with live updates', 285, 'Open, claimed, done and verified columns fed by the stream.'),
      c('Accessible report rendering', 200, 'Sanitised markdown, keyboard navigation, contrast.'),
    ],
  },
  {
    id: 'Agent-8', role: 'agent', specialty: 'SSOT & System Integration', capability: 'ssot', contractPoints: 650,
    contracts: [
      c('Single source of truth for agent specialties', 250, 'One roster every service reads, no copies.'),
      c('Reconcile task states across services', 200, 'Find and fix boards that disagree.'),
      c('Config drift detector', 200, 'Compare each service\'s settings with the shared ones, daily.'),
    ],
  },
];

/** The captain and the first n - 1 other agents, in the roster's order. */
export function firstAgents(n: number): DemoAgent[] {
  let crew = n - 1;
  return ORIGINAL_SWARM.filter((a) => a.id === CAPTAIN || crew-- > 0);
}

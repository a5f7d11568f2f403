// Channels: named topics with members; a message to `#name` reaches every member.

/** `deployments`, `infra-alerts`: lower-case letters, digits, `.`, `_`, `-`; written `#name` when addressed. */
export const CHANNEL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,49}$/;

export interface Channel {
  name: string;
  description: string;
  /** New agents and captains join it when registered. */
  autoJoin: boolean;
  createdBy: string;
  createdAt: number;
  members: number;
}

/** `#deployments` -> `deployments`; null when the address is not a channel address. */
export function channelOf(address: string): string | null {
  return address.startsWith('#') ? address.slice(1) : null;
}

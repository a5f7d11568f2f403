// Message ids are ULIDs: 26 characters, sortable by creation time, monotonic within a millisecond
// so that ids handed out by one process sort in send order.
import { monotonicFactory } from 'ulid';

const next = monotonicFactory();

export function newId(now: number = Date.now()): string {
  return next(now);
}

export const ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function isId(value: string): boolean {
  return ID_PATTERN.test(value);
}

// The spec reporter, with every test name prefixed by the store the pass runs the hub on
// ([postgres] …), so that a failure in the second pass of `npm test` (scripts/test.mjs) names its
// store wherever it is reported, the summary of failing tests included.
import { Readable } from 'node:stream';
import { spec } from 'node:test/reporters';

const label = `[${process.env.SWARM_TEST_STORE ?? 'sqlite'}]`;

async function* labelled(events) {
  for await (const event of events) {
    yield typeof event.data?.name === 'string' ? { ...event, data: { ...event.data, name: `${label} ${event.data.name}` } } : event;
  }
}

export default async function* storeSpec(source) {
  yield* Readable.from(labelled(source)).pipe(spec());
}

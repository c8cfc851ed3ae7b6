import { provisioned, testConfig } from '../../../../test/support/kit';
import { ErrorCodes, type NextActError, schemas, subjectFor, topicNames } from '../../src';

interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  fields: { name: string; type: unknown; default?: unknown }[];
}

describe('schema governance in the real registry', () => {
  const config = testConfig('core');
  const topic = topicNames(config.topicPrefix).customerEvents;
  const subject = subjectFor(topic, 'nextact.BrowseEvent');
  let env: Awaited<ReturnType<typeof provisioned>>;
  const base = schemas['nextact.BrowseEvent'] as AvroRecordSchema;

  beforeAll(async () => {
    env = await provisioned(config, 'evolution-it');
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  it('sets BACKWARD_TRANSITIVE compatibility on every subject it registers', async () => {
    const res = await fetch(`${config.schemaRegistryUrl}/config/${encodeURIComponent(subject)}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { compatibilityLevel: string };
    expect(body.compatibilityLevel).toBe('BACKWARD_TRANSITIVE');
  });

  it('accepts a compatible evolution (a new optional field with a default)', async () => {
    const evolved: AvroRecordSchema = { ...base, fields: [...base.fields, { name: 'referrer', type: ['null', 'string'], default: null }] };
    const id = await env.codec.registerRaw(subject, evolved);
    expect(id).toBeGreaterThan(0);
    const versions = (await (await fetch(`${config.schemaRegistryUrl}/subjects/${encodeURIComponent(subject)}/versions`)).json()) as number[];
    expect(versions.length).toBe(2);
  });

  it('refuses an incompatible evolution (a new required field without a default)', async () => {
    const broken: AvroRecordSchema = { ...base, fields: [...base.fields, { name: 'mandatoryNew', type: 'string' }] };
    let error: NextActError | undefined;
    try {
      await env.codec.registerRaw(subject, broken);
    } catch (err) {
      error = err as NextActError;
    }
    expect(error?.code).toBe(ErrorCodes.SCHEMA_INCOMPATIBLE);
    expect(error?.message).toContain(subject);
  });
});

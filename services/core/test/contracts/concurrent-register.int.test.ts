import { testConfig } from '../../../../test/support/kit';
import { codecFromConfig, kafkaFromConfig, silentLogger, topicBindings, topicSpecs } from '../../src';

describe('schema registration by several services starting at once', () => {
  const config = testConfig('core');

  afterAll(async () => {
    const admin = await kafkaFromConfig(config, silentLogger, 'register-it').admin();
    await admin.deleteTopics(topicSpecs(config).map((t) => t.name)).catch(() => {});
    await admin.close();
  });

  it('gives every process the same ids and the declared compatibility, with no process failing', async () => {
    const codecs = Array.from({ length: 4 }, () => codecFromConfig(config, silentLogger));
    const results = await Promise.all(codecs.map((c) => c.register(topicBindings(config.topicPrefix))));
    const first = [...results[0]!.entries()].sort();
    // One subject per record of each topic (six customer events, the erasure request, the decision,
    // the journey and the learner on the changelog).
    expect(first.length).toBe(topicBindings(config.topicPrefix).reduce((n, b) => n + b.records.length, 0));
    expect(first.length).toBe(10);
    for (const r of results) expect([...r.entries()].sort()).toEqual(first);
    for (const binding of topicBindings(config.topicPrefix)) {
      for (const record of binding.records) {
        const res = await fetch(`${config.schemaRegistryUrl}/config/${encodeURIComponent(`${binding.topic}-${record}`)}`);
        expect(((await res.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe('BACKWARD_TRANSITIVE');
      }
    }
  });
});

import { MultipleErrors, NetworkError, ProtocolError } from '@platformatic/kafka';
import { ErrorCodes, isFencedError, NextActError } from '../../src';
import { hasApiId, portError } from '../../src/kafka/platformatic/errors';

// The client's own error classes, as it throws them (loaded through jest's transform of the ESM package).
describe('@platformatic/kafka errors map to stable NXA codes', () => {
  it.each([
    ['PRODUCER_FENCED', ErrorCodes.KAFKA_FENCED, false],
    ['INVALID_PRODUCER_EPOCH', ErrorCodes.KAFKA_FENCED, false],
    ['ILLEGAL_GENERATION', ErrorCodes.KAFKA_STALE_MEMBER, false],
    ['UNKNOWN_MEMBER_ID', ErrorCodes.KAFKA_STALE_MEMBER, false],
    ['REBALANCE_IN_PROGRESS', ErrorCodes.KAFKA_REBALANCE_IN_PROGRESS, true],
    ['NOT_COORDINATOR', ErrorCodes.KAFKA_COORDINATOR_MOVED, true],
    ['CONCURRENT_TRANSACTIONS', ErrorCodes.KAFKA_CONCURRENT_TRANSACTIONS, true],
    ['MESSAGE_TOO_LARGE', ErrorCodes.KAFKA_RECORD_TOO_LARGE, false],
    ['NON_EMPTY_GROUP', ErrorCodes.KAFKA_GROUP_NOT_EMPTY, false],
  ])('%s inside the aggregate the client throws -> %s', (apiId, code, retriable) => {
    const thrown = new MultipleErrors('Received response with error while executing API', [new ProtocolError(apiId)]);
    const err = portError(thrown, 'commit');
    expect(err).toBeInstanceOf(NextActError);
    expect(err.code).toBe(code);
    expect(err.retriable).toBe(retriable);
    expect(err.cause).toBe(thrown);
    expect(err.message).toMatch(/^commit: /);
  });

  it('fencing and stale membership are recognised by code, not by text', () => {
    expect(isFencedError(portError(new ProtocolError('PRODUCER_FENCED'), 'x'))).toBe(true);
    expect(isFencedError(portError(new ProtocolError('ILLEGAL_GENERATION'), 'x'))).toBe(true);
    expect(isFencedError(portError(new ProtocolError('REBALANCE_IN_PROGRESS'), 'x'))).toBe(false);
  });

  it('a network failure is retriable unavailability; an unknown failure is NXA_KAFKA, not retriable', () => {
    const network = portError(new NetworkError('Connection closed'), 'fetch');
    expect([network.code, network.retriable]).toEqual([ErrorCodes.KAFKA_UNAVAILABLE, true]);
    const other = portError(new Error('something else'), 'fetch');
    expect([other.code, other.retriable]).toEqual([ErrorCodes.KAFKA, false]);
  });

  it('NextActErrors pass through unchanged, and hasApiId looks through causes', () => {
    const mine = new NextActError(ErrorCodes.TIMEOUT, 'slow', { retriable: true });
    expect(portError(mine, 'x')).toBe(mine);
    const wrapped = new Error('outer', { cause: new MultipleErrors('m', [new ProtocolError('UNSTABLE_OFFSET_COMMIT')]) });
    expect(hasApiId(wrapped, 'UNSTABLE_OFFSET_COMMIT')).toBe(true);
    expect(hasApiId(wrapped, 'CONCURRENT_TRANSACTIONS')).toBe(false);
  });
});

import { ErrorCodes, isFencedError, NextActError } from '../../src';
import { classify, portError } from '../../src/kafka/kafkajs/errors';

/** kafkajs-shaped errors (name, broker type, retriable, originalError), as its client throws them. */
const kafkajsError = (name: string, fields: { type?: string; retriable?: boolean; originalError?: unknown; message?: string } = {}) =>
  Object.assign(new Error(fields.message ?? name), { name, ...fields });

describe('kafkajs errors to port codes', () => {
  it('maps broker error types, through retry wrappers, with the right retriability', () => {
    expect(classify(kafkajsError('KafkaJSProtocolError', { type: 'PRODUCER_FENCED', retriable: false }))).toMatchObject({
      code: ErrorCodes.KAFKA_FENCED,
      retriable: false,
    });
    // kafkajs marks INVALID_PRODUCER_EPOCH retriable in places; a fenced producer never recovers.
    expect(classify(kafkajsError('KafkaJSProtocolError', { type: 'INVALID_PRODUCER_EPOCH', retriable: true }))).toMatchObject({
      code: ErrorCodes.KAFKA_FENCED,
      retriable: false,
    });
    const wrapped = kafkajsError('KafkaJSNumberOfRetriesExceeded', {
      retriable: false,
      originalError: kafkajsError('KafkaJSProtocolError', { type: 'REBALANCE_IN_PROGRESS' }),
    });
    expect(classify(wrapped)).toMatchObject({ code: ErrorCodes.KAFKA_REBALANCE_IN_PROGRESS, retriable: true });
    expect(classify(kafkajsError('KafkaJSProtocolError', { type: 'ILLEGAL_GENERATION' }))).toMatchObject({
      code: ErrorCodes.KAFKA_STALE_MEMBER,
      retriable: false,
    });
    expect(classify(kafkajsError('KafkaJSProtocolError', { type: 'NOT_COORDINATOR', retriable: true })).code).toBe(ErrorCodes.KAFKA_COORDINATOR_MOVED);
    expect(classify(kafkajsError('KafkaJSProtocolError', { type: 'MESSAGE_TOO_LARGE' })).code).toBe(ErrorCodes.KAFKA_RECORD_TOO_LARGE);
    expect(classify(kafkajsError('KafkaJSConnectionError'))).toMatchObject({ code: ErrorCodes.KAFKA_UNAVAILABLE, retriable: true });
    expect(
      classify(kafkajsError('KafkaJSNonRetriableError', { message: 'The consumer group must have no running instances, current state: Stable' })).code,
    ).toBe(ErrorCodes.KAFKA_GROUP_NOT_EMPTY);
    expect(classify(kafkajsError('KafkaJSError', { retriable: true }))).toEqual({ code: ErrorCodes.KAFKA, retriable: true });
  });

  it('wraps as NextActError with the cause kept, and lets NextActErrors through', () => {
    const fenced = portError(kafkajsError('KafkaJSProtocolError', { type: 'PRODUCER_FENCED' }), 'commit tx-1');
    expect(fenced).toBeInstanceOf(NextActError);
    expect(fenced.message).toMatch(/^commit tx-1: /);
    expect(isFencedError(fenced)).toBe(true);
    expect(fenced.details).toEqual({ type: 'PRODUCER_FENCED' });
    const own = new NextActError(ErrorCodes.VALIDATION, 'bad');
    expect(portError(own, 'x')).toBe(own);
  });
});

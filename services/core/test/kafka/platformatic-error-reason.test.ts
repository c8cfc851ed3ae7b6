/**
 * What an operator reads when @platformatic/kafka throws a generic aggregate ("Producing messages
 * failed."): the reason found inside it. Found while diagnosing the fault suite's broker restarts,
 * where the engine's log showed only the outer message.
 */
import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError } from '@platformatic/kafka';
import { ErrorCodes, isRetriable } from '../../src';
import { portError } from '../../src/kafka/platformatic/errors';

describe('@platformatic/kafka error messages carry their reason', () => {
  it('appends the innermost message of an aggregate without a code of ours', () => {
    const err = portError(new MultipleErrors('Producing messages failed.', [new Error('the producer is not in a transaction')]), 'transactional send');
    expect(err.code).toBe(ErrorCodes.KAFKA);
    expect(err.message).toBe('transactional send: Producing messages failed. (the producer is not in a transaction)');
  });

  it("names the broker's error when one is inside", () => {
    const err = portError(new MultipleErrors('Listing topics failed.', [new ProtocolError('SASL_AUTHENTICATION_FAILED')]), 'list topics');
    expect(err.code).toBe(ErrorCodes.KAFKA_AUTH);
    expect(err.message).toContain('(broker error SASL_AUTHENTICATION_FAILED)');
  });

  it('an authentication failure wrapped in a network error is NXA_KAFKA_AUTH, not retriable', () => {
    const network = new NetworkError('Connection to 127.0.0.1:1 failed.', { cause: new AuthenticationError('SASL authentication failed.') });
    const err = portError(new MultipleErrors('metadata failed 9 times.', [network]), 'produce');
    expect(err.code).toBe(ErrorCodes.KAFKA_AUTH);
    expect(isRetriable(err)).toBe(false);
    expect(err.message).toContain('(SASL authentication failed.)');
  });
});

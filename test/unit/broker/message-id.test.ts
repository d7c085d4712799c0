import { describe, expect, it } from 'vitest';
import { messageIdOf } from '../../../src/broker/message-id.js';

const body = Buffer.from(JSON.stringify({ id: 'b-1', meta: { key: 'k-9', n: 7 }, empty: '' }));

describe('messageIdOf', () => {
  it('reads a header, exact name first, then any case', () => {
    expect(messageIdOf({ header: 'message-id' }, { headers: { 'message-id': 'm-1' }, body })).toBe(
      'm-1',
    );
    expect(messageIdOf({ header: 'message-id' }, { headers: { 'Message-Id': 'm-2' }, body })).toBe(
      'm-2',
    );
    expect(
      messageIdOf(
        { header: 'Message-Id' },
        { headers: { 'message-id': 'lower', 'Message-Id': 'exact' }, body },
      ),
    ).toBe('exact');
  });

  it('reads Kafka header values (Buffers, arrays) and AMQP numbers as text', () => {
    expect(
      messageIdOf(
        { header: 'message-id' },
        { headers: { 'message-id': Buffer.from('k-1') }, body },
      ),
    ).toBe('k-1');
    expect(
      messageIdOf(
        { header: 'message-id' },
        { headers: { 'message-id': [Buffer.from('first'), 'second'] }, body },
      ),
    ).toBe('first');
    expect(messageIdOf({ header: 'message-id' }, { headers: { 'message-id': 42 }, body })).toBe(
      '42',
    );
  });

  it('answers undefined for a missing header or no headers at all', () => {
    expect(
      messageIdOf({ header: 'message-id' }, { headers: { other: 'x' }, body }),
    ).toBeUndefined();
    expect(messageIdOf({ header: 'message-id' }, { body })).toBeUndefined();
    expect(
      messageIdOf({ header: 'message-id' }, { headers: { 'message-id': { nested: 1 } }, body }),
    ).toBeUndefined();
  });

  it('reads the AMQP messageId property', () => {
    expect(messageIdOf({ property: 'messageId' }, { body, messageIdProperty: 'p-1' })).toBe('p-1');
    expect(messageIdOf({ property: 'messageId' }, { body })).toBeUndefined();
    expect(messageIdOf({ property: 'messageId' }, { body, messageIdProperty: '' })).toBeUndefined();
  });

  it('reads a field of the JSON body, with dotted paths', () => {
    expect(messageIdOf({ field: 'id' }, { body })).toBe('b-1');
    expect(messageIdOf({ field: 'meta.key' }, { body })).toBe('k-9');
    expect(messageIdOf({ field: 'meta.n' }, { body: body.toString() })).toBe('7');
  });

  it('answers undefined for a poison body, a missing field or a non-text value', () => {
    expect(messageIdOf({ field: 'id' }, { body: Buffer.from('not json {') })).toBeUndefined();
    expect(messageIdOf({ field: 'missing' }, { body })).toBeUndefined();
    expect(messageIdOf({ field: 'meta' }, { body })).toBeUndefined();
    expect(messageIdOf({ field: 'empty' }, { body })).toBeUndefined();
    expect(messageIdOf({ field: 'id.deeper' }, { body })).toBeUndefined();
    expect(messageIdOf({ field: 'id' }, { body: Buffer.from('[1,2]') })).toBeUndefined();
  });
});

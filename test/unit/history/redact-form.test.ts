import { describe, expect, it } from 'vitest';
import { Redactor } from '../../../src/history/redact.js';

describe('redaction of form bodies', () => {
  it('replaces listed fields by name or by their last bracketed part, and learns the values', () => {
    const redactor = new Redactor({ jsonFields: ['cvc', 'number'] });
    const body = 'amount=2000&card%5Bnumber%5D=4242424242424242&card[cvc]=314159&currency=usd';
    expect(redactor.body(body)).toBe(
      'amount=2000&card%5Bnumber%5D=[redacted]&card[cvc]=[redacted]&currency=usd',
    );
    // The value is a secret now, wherever it appears later.
    expect(redactor.scrub('echo: 4242424242424242')).toBe('echo: [redacted]');
  });

  it('leaves text that is not a form, and forms without listed fields, unchanged', () => {
    const redactor = new Redactor({ jsonFields: ['cvc'] });
    expect(redactor.body('amount=2000&currency=usd')).toBe('amount=2000&currency=usd');
    expect(redactor.body('a sentence with cvc=1 in it')).toBe('a sentence with cvc=1 in it');
  });
});

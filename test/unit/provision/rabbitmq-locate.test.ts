import { describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import {
  chooseRabbitmq,
  RABBITMQ_IMAGE,
  redactAmqpUrl,
  type RabbitmqFacts,
} from '../../../src/provision/rabbitmq-locate.js';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** Facts whose probes record that they were asked. */
function facts(
  overrides: Partial<{
    optionUrl: string;
    env: NodeJS.ProcessEnv;
    server: string;
    docker: true | string;
  }>,
): RabbitmqFacts & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    optionUrl: overrides.optionUrl,
    env: overrides.env ?? {},
    serverScript: () => {
      asked.push('server');
      return Promise.resolve(overrides.server ?? { missing: 'no rabbitmq-server anywhere' });
    },
    dockerEngine: () => {
      asked.push('docker');
      return Promise.resolve(overrides.docker ?? 'no Docker engine answered');
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const caught = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(caught instanceof Error)) throw new Error('expected a rejection');
  return caught;
}

describe('where RabbitMQ comes from', () => {
  it('uses the url option first, without probing anything', async () => {
    const given = facts({
      optionUrl: ' amqp://u:p@127.0.0.1:5/vh ',
      env: { IDEMPROOF_RABBITMQ_URL: 'amqp://other', AMQP_URL: 'amqp://third' },
      server: SERVER,
      docker: true,
    });
    expect(await chooseRabbitmq(given)).toEqual({
      way: 'url',
      url: 'amqp://u:p@127.0.0.1:5/vh',
      origin: 'option',
    });
    expect(given.asked).toEqual([]);
  });

  it('then IDEMPROOF_RABBITMQ_URL, then AMQP_URL', async () => {
    const both = { IDEMPROOF_RABBITMQ_URL: 'amqps://h:5671', AMQP_URL: 'amqp://h:5672' };
    expect(await chooseRabbitmq(facts({ env: both }))).toMatchObject({
      url: 'amqps://h:5671',
      origin: 'IDEMPROOF_RABBITMQ_URL',
    });
    expect(
      await chooseRabbitmq(facts({ env: { IDEMPROOF_RABBITMQ_URL: ' ', AMQP_URL: 'amqp://h' } })),
    ).toMatchObject({ url: 'amqp://h', origin: 'AMQP_URL' });
  });

  it('refuses a URL that is not AMQP as a usage error naming its origin, without a password', async () => {
    const error = await rejection(
      chooseRabbitmq(facts({ env: { AMQP_URL: 'http://u:s3cret@127.0.0.1:15672' } })),
    );
    expect(isIdemproofError(error) && error.category).toBe('usage');
    expect(error.message).toContain('AMQP_URL');
    expect(error.message).not.toContain('s3cret');
  });

  it('then a private node from the rabbitmq-server scripts, without asking Docker', async () => {
    const given = facts({ server: SERVER, docker: true });
    expect(await chooseRabbitmq(given)).toEqual({ way: 'private-node', server: SERVER });
    expect(given.asked).toEqual(['server']);
  });

  it('then a container when a Docker engine answers', async () => {
    const given = facts({ docker: true });
    expect(await chooseRabbitmq(given)).toEqual({ way: 'container', image: RABBITMQ_IMAGE });
    expect(given.asked).toEqual(['server', 'docker']);
  });

  it('otherwise an infrastructure error naming the three ways and why each is missing', async () => {
    const error = await rejection(chooseRabbitmq(facts({ optionUrl: '  ' })));
    expect(isIdemproofError(error) && error.code).toBe('IDEMPROOF_ERR_BROKER_UNAVAILABLE');
    expect(error.message).toContain('IDEMPROOF_RABBITMQ_URL');
    expect(error.message).toContain('no rabbitmq-server anywhere');
    expect(error.message).toContain('apt-get install -y --no-install-recommends rabbitmq-server');
    expect(error.message).toContain(`${RABBITMQ_IMAGE}: no Docker engine answered`);
  });

  it('redacts passwords from URLs it shows', () => {
    expect(redactAmqpUrl('amqp://guest:guest@127.0.0.1:5672')).toBe(
      'amqp://guest:***@127.0.0.1:5672',
    );
    expect(redactAmqpUrl('not a url')).toBe('<unparseable AMQP URL>');
  });
});

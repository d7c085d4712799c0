import { describe, expect, it } from 'vitest';
import { privateNodeEnv } from '../../../src/provision/rabbitmq.js';

describe('the private RabbitMQ node environment', () => {
  const env = privateNodeEnv(
    {
      PATH: '/usr/bin',
      HOME: '/root',
      RABBITMQ_USE_LONGNAME: 'true',
      RABBITMQ_NODENAME: 'rabbit@prod',
      ERL_FLAGS: '-name x',
    },
    '/tmp/idemproof-rabbitmq-abc',
    'idemproof-1234@localhost',
    { amqp: 40001, dist: 40002, epmd: 40003 },
  );

  it('keeps everything, cookie and configuration included, inside its own folder', () => {
    expect(env.HOME).toBe('/tmp/idemproof-rabbitmq-abc/home');
    for (const name of [
      'RABBITMQ_MNESIA_BASE',
      'RABBITMQ_LOG_BASE',
      'RABBITMQ_CONFIG_FILE',
      'RABBITMQ_ENABLED_PLUGINS_FILE',
      'RABBITMQ_CONF_ENV_FILE',
    ]) {
      expect(env[name]).toMatch(/^\/tmp\/idemproof-rabbitmq-abc\//);
    }
  });

  it('uses its own name and ports on loopback, so two nodes on one machine never meet', () => {
    expect(env).toMatchObject({
      RABBITMQ_NODENAME: 'idemproof-1234@localhost',
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: '40001',
      RABBITMQ_DIST_PORT: '40002',
      ERL_EPMD_PORT: '40003',
      ERL_EPMD_ADDRESS: '127.0.0.1',
    });
    expect(env.RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS).toContain(
      'inet_dist_use_interface {127,0,0,1}',
    );
  });

  it("drops the caller's RABBITMQ_* and ERL_* settings and keeps the rest", () => {
    expect(env.RABBITMQ_USE_LONGNAME).toBeUndefined();
    expect(env.ERL_FLAGS).toBeUndefined();
    expect(env.PATH).toBe('/usr/bin');
  });
});

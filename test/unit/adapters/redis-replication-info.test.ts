import { parseInfo, parseRoleReply } from '../../../lambdas/shared/adapters/redis/replication-info';

describe('Redis INFO and ROLE', () => {
  test('INFO replication text → fields, comments and blank lines ignored, values may hold colons', () => {
    const text =
      '# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_link_status:up\r\nslave0:ip=127.0.0.1,port=6380,state=online\r\n\r\n';
    expect(parseInfo(text)).toEqual({
      role: 'slave',
      master_host: '127.0.0.1',
      master_link_status: 'up',
      slave0: 'ip=127.0.0.1,port=6380,state=online',
    });
  });

  test('ROLE of a master: its offset and connected replicas', () => {
    expect(parseRoleReply(['master', 3129659, [['127.0.0.1', '9001', '3129242']]])).toEqual({
      role: 'master',
      replicationOffset: 3129659,
      replicas: [{ host: '127.0.0.1', port: 9001, offset: 3129242 }],
    });
  });

  test('ROLE of a replica: master, link state and processed offset', () => {
    expect(parseRoleReply(['slave', '127.0.0.1', 9000, 'connected', 3167038])).toEqual({
      role: 'replica',
      replicationOffset: 3167038,
      master: { host: '127.0.0.1', port: 9000, linkState: 'connected' },
    });
  });

  test('a replica that has not synced reports offset -1: treated as 0', () => {
    expect(parseRoleReply(['slave', '10.0.0.1', 6379, 'connect', -1]).replicationOffset).toBe(0);
  });

  test.each([[['sentinel', ['mymaster']]], [null], [[]]])('anything else is unknown: %j', (reply) => {
    expect(parseRoleReply(reply).role).toBe('unknown');
  });
});

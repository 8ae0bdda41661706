import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { WalauditError, type Alert, type AlertEvent, type Notifier } from '@walaudit/core';
import { notificationText } from './webhook-notifier.js';

const FACILITY_LOCAL0 = 16;
const SEVERITY = { alert: 1, warning: 4, notice: 5 } as const;
/** Private enterprise number placeholder of RFC 5424's examples' form; names our structured data. */
const SD_ID = 'walaudit@32473';

export interface SyslogOptions {
  host: string;
  port: number;
  protocol: 'udp' | 'tcp';
}

/** RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`. */
export function formatSyslog(alert: Alert, event: AlertEvent, at = new Date()): string {
  const severity = event === 'acknowledged' ? SEVERITY.notice : alert.kind !== 'bulk-delete' ? SEVERITY.alert : SEVERITY.warning;
  const params: Array<[string, string | number]> = [
    ['id', alert.id],
    ['kind', alert.kind],
    ['event', event],
    ['actor', alert.actor.name],
    ['dbUser', alert.actor.dbUser ?? ''],
    ['ip', alert.actor.ip ?? ''],
    ['rows', alert.rows],
    ['tables', alert.tables.map((table) => table.table).join(',')],
    ['firstEntry', alert.firstEntryId],
    ['lastEntry', alert.lastEntryId],
  ];
  const sd = `[${SD_ID} ${params.map(([name, value]) => `${name}="${escapeParam(String(value))}"`).join(' ')}]`;
  const host = hostname().replace(/[^\x21-\x7e]/g, '').slice(0, 255) || '-';
  return `<${FACILITY_LOCAL0 * 8 + severity}>1 ${at.toISOString()} ${host} walaudit ${process.pid} ${alert.kind} ${sd} ${notificationText(alert, event)}`;
}

function escapeParam(value: string): string {
  return value.replace(/[\\"\]]/g, (char) => `\\${char}`);
}

export function syslogNotifier(options: SyslogOptions): Notifier {
  return {
    channel: 'syslog',
    send(alert, event, signal) {
      const message = Buffer.from(formatSyslog(alert, event), 'utf8');
      return options.protocol === 'udp' ? sendUdp(options, message) : sendTcp(options, message, signal);
    },
  };
}

function failure(options: SyslogOptions, error: Error): WalauditError {
  return new WalauditError('NOTIFY_FAILED', `syslog: cannot send to ${options.protocol}://${options.host}:${options.port}: ${error.message}`, { retriable: true, cause: error });
}

function sendUdp(options: SyslogOptions, message: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(options.host.includes(':') ? 'udp6' : 'udp4');
    socket.send(message, options.port, options.host, (error) => {
      socket.close();
      if (error) reject(failure(options, error));
      else resolve();
    });
  });
}

/** RFC 6587 octet counting: `LEN SP MSG`; one connection per message, closed once written. */
function sendTcp(options: SyslogOptions, message: Buffer, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: options.host, port: options.port });
    const onAbort = () => socket.destroy(new Error('timed out'));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(failure(options, error));
    });
    socket.once('connect', () => {
      socket.end(Buffer.concat([Buffer.from(`${message.length} `), message]), () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  });
}

// A UDP syslog receiver for the logging tests: every datagram it gets is kept as one latin1 line.
import dgram from 'node:dgram';

export interface UdpSyslogReceiver { port: number; lines: string[]; close(): Promise<void> }

/** Binds a UDP socket on 127.0.0.1 (random port) that records each datagram it receives. */
export async function udpSyslogReceiver(): Promise<UdpSyslogReceiver> {
  const s = dgram.createSocket('udp4');
  const lines: string[] = [];
  s.on('message', (m) => lines.push(m.toString('latin1')));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, lines, close: () => new Promise((r) => s.close(() => r())) };
}

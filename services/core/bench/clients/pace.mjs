// Paced input for the latency runs: --rate records/s for --seconds, sent every 10 ms with the record
// timestamp set at send time, so the loop's latency runs from "produced" to "its output committed".
// The same producer (kafkajs, acks=all) feeds every client's loop.
import kafkajs from 'kafkajs';

const a = Object.fromEntries(process.argv.slice(2).map((s) => /^--([^=]+)=(.*)$/.exec(s).slice(1)));
const rate = Number(a.rate);
const seconds = Number(a.seconds);
const kafka = new kafkajs.Kafka({ clientId: 'spike-pace', brokers: a.brokers.split(','), logLevel: kafkajs.logLevel.NOTHING });
const producer = kafka.producer();
await producer.connect();
const value = Buffer.alloc(200, 'x');
const total = rate * seconds;
const start = Date.now();
let sent = 0;
let n = 0;
while (sent < total) {
  const due = Math.min(total, Math.round(((Date.now() - start) / 1000) * rate));
  if (due > sent) {
    const messages = [];
    const ts = String(Date.now());
    for (; sent < due; sent++) messages.push({ key: `c${n++ % 10000}`, value, timestamp: ts });
    await producer.send({ topic: a.topic, acks: -1, messages });
  }
  await new Promise((r) => setTimeout(r, 10));
}
await producer.disconnect();
process.stdout.write(`${JSON.stringify({ paced: sent, seconds: (Date.now() - start) / 1000 })}\n`);

import { type Agent, request } from 'node:http';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  text: string;
}

/** POSTs to the gateway; `body` is sent as is when a string or Buffer, as JSON otherwise. */
export function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  options: { agent?: Agent; chunked?: boolean; path?: string; method?: string } = {},
): Promise<Answer> {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
  const target = new URL(options.path ?? '/v1/events', url);
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: options.method ?? 'POST',
        agent: options.agent,
        headers: {
          'content-type': 'application/json',
          ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(payload.length) }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = {};
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
        });
      },
    );
    // The server may answer (413, 401) and close before the whole body was written.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    if (options.method === 'GET') req.end();
    else if (options.chunked) {
      const step = 16 * 1024;
      for (let i = 0; i < payload.length; i += step) req.write(payload.subarray(i, i + step));
      req.end();
    } else req.end(payload);
  });
}

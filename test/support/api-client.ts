import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface ApiAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
  text: string;
}

/**
 * A request to the API with any headers, Host included (fetch would not let a test forge the Host
 * header a DNS-rebinding page sends).
 */
export function callApi(port: number, method: string, path: string, options: { token?: string; headers?: Record<string, string>; body?: string } = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers };
  if (options.body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        let body: ApiAnswer['body'] = {};
        try {
          body = JSON.parse(text) as ApiAnswer['body'];
        } catch {
          // Not JSON (metrics, docs): the text is there.
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body, text });
      });
    });
    request.on('error', reject);
    if (options.body !== undefined) request.write(options.body);
    request.end();
  });
}

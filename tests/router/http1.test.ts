// router/http1.ts: the fast path's request-head parser, the incremental upstream response parser, and responseHead.
import { describe, expect, it } from 'vitest';
import { isProxiedRoute, MAX_HEAD_BYTES, parseRequestHead, ResponseParser, responseHead, UpstreamProtocolError, type UpstreamResponse } from '../../router/http1.js';

/** A request head as the fast path hands it over: the lines before the blank line, joined by CRLF. */
function head(...lines: string[]): string {
  return lines.join('\r\n');
}

/** Bytes on the wire (latin1, as the upstream sends them). */
function wire(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** A plain JSON answer as the model server sends it. */
const OK_JSON = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}';

function feedAll(parser: ResponseParser, bytes: Buffer): UpstreamResponse[] {
  return parser.feed(bytes);
}

function feedBytewise(parser: ResponseParser, bytes: Buffer): UpstreamResponse[][] {
  const perByte: UpstreamResponse[][] = [];
  for (let i = 0; i < bytes.length; i++) perByte.push(parser.feed(bytes.subarray(i, i + 1)));
  return perByte;
}

function bodies(responses: UpstreamResponse[]): string[] {
  return responses.map((r) => r.body.toString('latin1'));
}

describe('parseRequestHead: requests the fast path serves', () => {
  it('accepts POST /predict and reads its Content-Length', () => {
    expect(parseRequestHead(head('POST /predict HTTP/1.1', 'Host: router:8080', 'Content-Length: 27'))).toEqual({
      method: 'POST',
      target: '/predict',
      contentLength: 27,
      close: false,
      requestId: undefined,
      pin: undefined,
      session: undefined,
      forwarded: '',
    });
  });

  it('accepts POST /predict/explain', () => {
    const req = parseRequestHead(head('POST /predict/explain HTTP/1.1', 'Host: x', 'Content-Length: 2'));
    expect(req).toMatchObject({ method: 'POST', target: '/predict/explain', contentLength: 2 });
  });

  it('accepts GET /model/info without a Content-Length as a request with an empty body', () => {
    const req = parseRequestHead(head('GET /model/info HTTP/1.1', 'Host: x'));
    expect(req).toMatchObject({ method: 'GET', target: '/model/info', contentLength: 0 });
  });

  it('keeps the query string in the target and routes on the path before it', () => {
    expect(parseRequestHead(head('POST /predict?explain=0&lang=es HTTP/1.1', 'Host: x', 'Content-Length: 2'))?.target).toBe('/predict?explain=0&lang=es');
  });

  it('reads a Content-Length of 0 and one with leading zeros', () => {
    expect(parseRequestHead(head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 0'))?.contentLength).toBe(0);
    expect(parseRequestHead(head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 007'))?.contentLength).toBe(7);
  });

  it('reads Connection: close', () => {
    expect(parseRequestHead(head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 2', 'Connection: close'))?.close).toBe(true);
  });

  it('reads close from a Connection token list ("keep-alive, close")', () => {
    expect(parseRequestHead(head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 2', 'Connection: keep-alive, close'))?.close).toBe(true);
  });

  it('keeps the connection open for Connection: keep-alive', () => {
    expect(parseRequestHead(head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 2', 'Connection: keep-alive'))?.close).toBe(false);
  });

  it('reads x-request-id, x-gsg-color (the pin) and x-gsg-session', () => {
    const req = parseRequestHead(head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 2', 'x-request-id: req-42', 'x-gsg-color: green', 'x-gsg-session: user-7'));
    expect(req).toMatchObject({ requestId: 'req-42', pin: 'green', session: 'user-7' });
  });

  it('reads header names case-insensitively', () => {
    const req = parseRequestHead(head('POST /predict HTTP/1.1', 'HOST: x', 'CONTENT-LENGTH: 5', 'X-Request-ID: req-1', 'X-GSG-Color: blue', 'X-Gsg-Session: s', 'CONNECTION: Close'));
    expect(req).toMatchObject({ contentLength: 5, requestId: 'req-1', pin: 'blue', session: 's', close: true });
  });

  it('trims spaces and tabs around header values', () => {
    const req = parseRequestHead(head('POST /predict HTTP/1.1', 'Host:x', 'Content-Length:\t 12 \t', 'x-request-id:   req-9\t'));
    expect(req).toMatchObject({ contentLength: 12, requestId: 'req-9' });
  });

  it('forwards content-type, content-encoding, accept, accept-encoding and user-agent as lowercase "name: value" lines, values trimmed, in the order sent', () => {
    const req = parseRequestHead(
      head(
        'POST /predict HTTP/1.1',
        'User-Agent:  curl/8.5.0 ',
        'Host: x',
        'Content-Type: application/json; charset=utf-8',
        'Content-Length: 2',
        'ACCEPT:\tapplication/json',
        'Accept-Encoding: gzip, br',
        'Content-Encoding: identity',
      ),
    );
    expect(req?.forwarded).toBe(
      'user-agent: curl/8.5.0\r\n' + 'content-type: application/json; charset=utf-8\r\n' + 'accept: application/json\r\n' + 'accept-encoding: gzip, br\r\n' + 'content-encoding: identity\r\n',
    );
  });

  it('does not forward cookies, credentials, Host, Connection or headers it does not know', () => {
    const req = parseRequestHead(
      head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 2', 'Cookie: sid=secret', 'Authorization: Bearer t0ken', 'Connection: keep-alive', 'X-Forwarded-For: 10.0.0.1', 'Content-Type: application/json'),
    );
    expect(req?.forwarded).toBe('content-type: application/json\r\n');
  });
});

describe('parseRequestHead: requests handed to node:http (undefined)', () => {
  const base = ['Host: x', 'Content-Length: 2'];
  it.each([
    ['GET /predict', head('GET /predict HTTP/1.1', ...base)],
    ['POST /model/info', head('POST /model/info HTTP/1.1', ...base)],
    ['POST /admin/weights', head('POST /admin/weights HTTP/1.1', ...base)],
    ['GET /health', head('GET /health HTTP/1.1', 'Host: x')],
    ['HEAD /model/info', head('HEAD /model/info HTTP/1.1', 'Host: x')],
    ['a lowercase method', head('post /predict HTTP/1.1', ...base)],
    ['a trailing slash on the path', head('POST /predict/ HTTP/1.1', ...base)],
    ['HTTP/1.0', head('POST /predict HTTP/1.0', ...base)],
    ['HTTP/2.0', head('POST /predict HTTP/2.0', ...base)],
    ['a request line without a version', head('POST /predict', ...base)],
    ['two spaces between method and target', head('POST  /predict HTTP/1.1', ...base)],
    ['a trailing space after the version', head('POST /predict HTTP/1.1 ', ...base)],
    ['an absolute-form target', head('POST http://router:8080/predict HTTP/1.1', ...base)],
    ['an asterisk-form target', head('OPTIONS * HTTP/1.1', 'Host: x')],
    ['a non-ASCII target', head('POST /predict?q=caf\xe9 HTTP/1.1', ...base)],
    ['an empty head', ''],
    ['no Host', head('POST /predict HTTP/1.1', 'Content-Length: 2')],
    ['two Host headers', head('POST /predict HTTP/1.1', 'Host: a', 'host: b', 'Content-Length: 2')],
    ['two equal Content-Lengths', head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 2', 'Content-Length: 2')],
    ['two different Content-Lengths', head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 2', 'content-length: 3')],
    ['Content-Length "+5"', head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: +5')],
    ['Content-Length "5 5"', head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 5 5')],
    ['Content-Length "0x10"', head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 0x10')],
    ['Content-Length "5, 5"', head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 5, 5')],
    ['Content-Length "-1"', head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: -1')],
    ['an empty Content-Length', head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length:')],
    ['a 16-digit Content-Length', head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 1000000000000000')],
    ['Transfer-Encoding: chunked', head('POST /predict HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked')],
    ['Transfer-Encoding next to a Content-Length', head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 2', 'Transfer-Encoding: identity')],
    ['Expect: 100-continue', head('POST /predict HTTP/1.1', ...base, 'Expect: 100-continue')],
    ['Upgrade: websocket', head('POST /predict HTTP/1.1', ...base, 'Upgrade: websocket')],
    ['Connection: upgrade', head('POST /predict HTTP/1.1', ...base, 'Connection: Upgrade')],
    ['upgrade in a Connection token list', head('POST /predict HTTP/1.1', ...base, 'Connection: keep-alive, upgrade')],
    ['a header line without a colon', head('POST /predict HTTP/1.1', ...base, 'X-Broken')],
    ['a header line starting with a colon', head('POST /predict HTTP/1.1', ...base, ': value')],
    ['a space before the colon ("content-length : 5")', head('POST /predict HTTP/1.1', 'Host: x', 'content-length : 5')],
    ['a header name with a space inside', head('POST /predict HTTP/1.1', ...base, 'X Request: 1')],
    ['obs-fold: a line starting with a space', head('POST /predict HTTP/1.1', ...base, 'User-Agent: a', ' b')],
    ['obs-fold: a line starting with a tab', head('POST /predict HTTP/1.1', ...base, 'User-Agent: a', '\tb: c')],
    ['a bare LF inside a header line', head('POST /predict HTTP/1.1', ...base, 'X-Request-Id: a\nContent-Length: 99')],
    ['a bare CR inside a header line', head('POST /predict HTTP/1.1', ...base, 'X-Request-Id: a\rb')],
    ['a bare LF ending the request line', 'POST /predict HTTP/1.1\nHost: x\r\nContent-Length: 2'],
    ['an empty line among the headers', head('POST /predict HTTP/1.1', 'Host: x', '', 'Content-Length: 2')],
    ['a NUL byte in a header value', head('POST /predict HTTP/1.1', ...base, 'User-Agent: a\x00b')],
    ['a DEL byte in a header value', head('POST /predict HTTP/1.1', ...base, 'User-Agent: a\x7fb')],
    ['a repeated x-request-id', head('POST /predict HTTP/1.1', ...base, 'x-request-id: a', 'X-Request-Id: b')],
    ['a repeated x-gsg-color', head('POST /predict HTTP/1.1', ...base, 'x-gsg-color: blue', 'x-gsg-color: green')],
    ['a repeated x-gsg-session', head('POST /predict HTTP/1.1', ...base, 'x-gsg-session: a', 'x-gsg-session: a')],
    ['a repeated content-type', head('POST /predict HTTP/1.1', ...base, 'Content-Type: application/json', 'content-type: text/plain')],
    ['a repeated accept', head('POST /predict HTTP/1.1', ...base, 'Accept: application/json', 'Accept: */*')],
  ])('returns undefined for %s', (_what, text) => {
    expect(parseRequestHead(text)).toBeUndefined();
  });

  // HTTP's optional whitespace is only SP/HTAB: "Content-Length: 5<0xA0>" is not a Content-Length (node:http answers
  // it 400), so the fast path must not read it as 5.
  it('returns undefined for a Content-Length with a latin1 no-break space (byte 0xA0) next to the digits', () => {
    expect(parseRequestHead(head('POST /predict HTTP/1.1', 'Host: x', 'Content-Length: 5\xa0'))).toBeUndefined();
  });
});

describe('isProxiedRoute', () => {
  it.each([
    ['POST', '/predict', true],
    ['POST', '/predict/explain', true],
    ['GET', '/model/info', true],
    ['GET', '/predict', false],
    ['POST', '/model/info', false],
    ['HEAD', '/model/info', false],
    ['POST', '/predict/', false],
    ['POST', '/admin/weights', false],
    [undefined, '/predict', false],
  ] as const)('%s %s → %s', (method, path, proxied) => {
    expect(isProxiedRoute(method, path)).toBe(proxied);
  });
});

describe('ResponseParser: framing', () => {
  it('reads a response that arrives in one chunk', () => {
    expect(feedAll(new ResponseParser(), wire(OK_JSON))).toEqual([{ status: 200, headers: ['Content-Type', 'application/json'], body: wire('{"ok":true}'), keepAlive: true }]);
  });

  it('reads the same response fed one byte at a time, completing it on the last byte only', () => {
    const bytes = wire(OK_JSON);
    const perByte = feedBytewise(new ResponseParser(), bytes);
    expect(perByte.slice(0, -1).every((done) => done.length === 0)).toBe(true);
    expect(perByte.at(-1)).toEqual(feedAll(new ResponseParser(), bytes));
  });

  it('reads two pipelined responses from one chunk, in order', () => {
    const second = 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nContent-Length: 20\r\n\r\n{"detail":"warming"}';
    const done = feedAll(new ResponseParser(), wire(OK_JSON + second));
    expect(done.map((r) => r.status)).toEqual([200, 503]);
    expect(bodies(done)).toEqual(['{"ok":true}', '{"detail":"warming"}']);
  });

  it('reads a response whose body arrives in a later chunk than its head', () => {
    const parser = new ResponseParser();
    expect(parser.feed(wire('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"ok"'))).toEqual([]);
    expect(bodies(parser.feed(wire(':true}')))).toEqual(['{"ok":true}']);
  });

  it('keeps the bytes after a response for the next one when a chunk ends mid-head', () => {
    const parser = new ResponseParser();
    const bytes = wire(OK_JSON + OK_JSON);
    const cut = OK_JSON.length + 20;
    expect(parser.feed(bytes.subarray(0, cut))).toHaveLength(1);
    expect(bodies(parser.feed(bytes.subarray(cut)))).toEqual(['{"ok":true}']);
  });

  it('reads an empty body for Content-Length: 0', () => {
    expect(bodies(feedAll(new ResponseParser(), wire('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')))).toEqual(['']);
  });

  it('accepts a repeated Content-Length with the same value', () => {
    expect(bodies(feedAll(new ResponseParser(), wire('HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok')))).toEqual(['ok']);
  });

  it('accepts a status line without a reason phrase', () => {
    expect(feedAll(new ResponseParser(), wire('HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok'))[0]?.status).toBe(200);
  });

  it('decodes a chunked body with chunk extensions and trailers into one body', () => {
    const text = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n' + '5;name=value\r\n{"lab\r\n' + 'A ; ext="q"\r\nel":"posit\r\n' + '5\r\nive"}\r\n' + '0;last\r\n' + 'X-Checksum: abc\r\nServer-Timing: db;dur=3\r\n' + '\r\n';
    const done = feedAll(new ResponseParser(), wire(text));
    expect(done).toEqual([{ status: 200, headers: ['Content-Type', 'application/json'], body: wire('{"label":"positive"}'), keepAlive: true }]);
  });

  it('decodes the same chunked body fed one byte at a time', () => {
    const text = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer-A: 1\r\n\r\n';
    const done = feedBytewise(new ResponseParser(), wire(text)).flat();
    expect(bodies(done)).toEqual(['abcde']);
  });

  it('reads a chunked response followed by a pipelined response in the same chunk', () => {
    const done = feedAll(new ResponseParser(), wire('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n' + OK_JSON));
    expect(bodies(done)).toEqual(['hi', '{"ok":true}']);
  });

  it('refuses an answer framed both by Transfer-Encoding and Content-Length (RFC 9112 §6.3: a smuggling risk)', () => {
    expect(() => feedAll(new ResponseParser(), wire('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n'))).toThrow(UpstreamProtocolError);
  });

  it('reads a 204 as having no body, and the response after it', () => {
    const done = feedAll(new ResponseParser(), wire('HTTP/1.1 204 No Content\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n' + OK_JSON));
    expect(done.map((r) => [r.status, r.body.toString('latin1')])).toEqual([
      [204, ''],
      [200, '{"ok":true}'],
    ]);
  });

  it('reads a 304 as having no body even with a Content-Length, and the response after it', () => {
    const done = feedAll(new ResponseParser(), wire('HTTP/1.1 304 Not Modified\r\nETag: "v3"\r\nContent-Length: 11\r\n\r\n' + OK_JSON));
    expect(done.map((r) => [r.status, r.body.toString('latin1')])).toEqual([
      [304, ''],
      [200, '{"ok":true}'],
    ]);
  });

  it('skips a 100 Continue head before the real response', () => {
    const done = feedAll(new ResponseParser(), wire('HTTP/1.1 100 Continue\r\n\r\n' + OK_JSON));
    expect(done.map((r) => r.status)).toEqual([200]);
  });

  it('skips a 103 Early Hints head (with its headers) before the real response', () => {
    const done = feedAll(new ResponseParser(), wire('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\nContent-Type: text/plain\r\n\r\n' + OK_JSON));
    expect(done).toEqual(feedAll(new ResponseParser(), wire(OK_JSON)));
  });

  it('skips a 1xx head that arrives in a chunk of its own', () => {
    const parser = new ResponseParser();
    expect(parser.feed(wire('HTTP/1.1 100 Continue\r\n\r\n'))).toEqual([]);
    expect(parser.feed(wire(OK_JSON)).map((r) => r.status)).toEqual([200]);
  });

  it('reads a body without Content-Length or chunking until the upstream closes: end() completes it', () => {
    const parser = new ResponseParser();
    expect(parser.feed(wire('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part, '))).toEqual([]);
    expect(parser.feed(wire('second part'))).toEqual([]);
    expect(parser.end()).toEqual({ status: 200, headers: ['Content-Type', 'text/plain'], body: wire('first part, second part'), keepAlive: false });
  });

  it('reads a body whose last transfer coding is not chunked until the upstream closes', () => {
    const parser = new ResponseParser();
    expect(parser.feed(wire('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabcdef'))).toEqual([]);
    expect(parser.end()?.body).toEqual(wire('abcdef'));
  });

  it('completes a close-delimited response with an empty body when the upstream closes right after the head', () => {
    const parser = new ResponseParser();
    parser.feed(wire('HTTP/1.0 200 OK\r\n\r\n'));
    expect(parser.end()?.body).toEqual(Buffer.alloc(0));
  });

  it('is not started after end() completes a close-delimited answer', () => {
    const parser = new ResponseParser();
    parser.feed(wire('HTTP/1.1 200 OK\r\n\r\nbody'));
    parser.end();
    expect(parser.started).toBe(false);
  });

  it('end() completes nothing when a Content-Length body was cut short', () => {
    const parser = new ResponseParser();
    parser.feed(wire('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"ok"'));
    expect(parser.end()).toBeUndefined();
  });

  it('end() completes nothing when a chunked body was cut short', () => {
    const parser = new ResponseParser();
    parser.feed(wire('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab'));
    expect(parser.end()).toBeUndefined();
  });

  it('end() completes nothing between responses or mid-head', () => {
    const parser = new ResponseParser();
    expect(parser.end()).toBeUndefined();
    parser.feed(wire(OK_JSON));
    expect(parser.end()).toBeUndefined();
    parser.feed(wire('HTTP/1.1 200 OK\r\nContent-'));
    expect(parser.end()).toBeUndefined();
  });
});

describe('ResponseParser: keep-alive', () => {
  it('keeps an HTTP/1.1 connection open by default', () => {
    expect(feedAll(new ResponseParser(), wire(OK_JSON))[0]?.keepAlive).toBe(true);
  });

  it('closes after Connection: close', () => {
    expect(feedAll(new ResponseParser(), wire('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'))[0]?.keepAlive).toBe(false);
  });

  it('closes after close in a Connection token list, whatever its case', () => {
    expect(feedAll(new ResponseParser(), wire('HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 2\r\n\r\nok'))[0]?.keepAlive).toBe(false);
  });

  it('closes after an HTTP/1.0 response without keep-alive', () => {
    expect(feedAll(new ResponseParser(), wire('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'))[0]?.keepAlive).toBe(false);
  });

  it('keeps an HTTP/1.0 connection open with Connection: keep-alive', () => {
    expect(feedAll(new ResponseParser(), wire('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok'))[0]?.keepAlive).toBe(true);
  });

  it('closes after a close-delimited body even when the upstream said keep-alive', () => {
    const parser = new ResponseParser();
    parser.feed(wire('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nbody'));
    expect(parser.end()?.keepAlive).toBe(false);
  });

  // Connection is a list header: two lines mean "close, keep-alive" (RFC 9110 §5.3), and close wins (RFC 9112 §9.6);
  // otherwise the pool would reuse a connection the upstream is closing.
  it('closes after Connection: close even when another Connection line says keep-alive', () => {
    const res = feedAll(new ResponseParser(), wire('HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok'));
    expect(res[0]?.keepAlive).toBe(false);
  });

  // RFC 9112 §6.1: a client that receives an HTTP/1.0 message with Transfer-Encoding MUST treat its framing as
  // faulty and close the connection after it.
  it('closes after an HTTP/1.0 response with Transfer-Encoding, even with Connection: keep-alive', () => {
    const res = feedAll(new ResponseParser(), wire('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'));
    expect(res[0]?.keepAlive).toBe(false);
  });
});

describe('ResponseParser: copied headers', () => {
  it('copies only the headers a client may use, with their names and values as sent, in order', () => {
    const text =
      'HTTP/1.1 429 Too Many Requests\r\n' +
      'Content-Type: application/json\r\n' +
      'Content-Length: 2\r\n' +
      'Connection: keep-alive\r\n' +
      'Keep-Alive: timeout=65\r\n' +
      'Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n' +
      'x-request-id: upstream-id\r\n' +
      'X-Model-Version: 3\r\n' +
      'X-Served-By: green\r\n' +
      'retry-after:  2 \r\n' +
      'Set-Cookie: a=b\r\n' +
      'Cache-Control: no-store\r\n' +
      'Vary: Accept-Encoding\r\n' +
      'Content-Encoding: identity\r\n' +
      'ETag: "abc"\r\n' +
      'Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n' +
      'Allow: POST\r\n' +
      'Location: /predict\r\n' +
      'Server: gsg-model-server\r\n' +
      '\r\n{}';
    expect(feedAll(new ResponseParser(), wire(text))[0]?.headers).toEqual([
      'Content-Type',
      'application/json',
      'Date',
      'Mon, 01 Jan 2024 00:00:00 GMT',
      'retry-after',
      '2',
      'Cache-Control',
      'no-store',
      'Vary',
      'Accept-Encoding',
      'Content-Encoding',
      'identity',
      'ETag',
      '"abc"',
      'Last-Modified',
      'Mon, 01 Jan 2024 00:00:00 GMT',
      'Allow',
      'POST',
      'Location',
      '/predict',
    ]);
  });

  it('copies no framing header of a chunked response', () => {
    const res = feedAll(new ResponseParser(), wire('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n0\r\n\r\n'));
    expect(res[0]?.headers).toEqual([]);
  });

  // A bare LF, a bare CR or a NUL inside a value must never reach the client's answer (the LF case would start a
  // second header line: response splitting). RFC 9110 §5.5: reject the message or replace them with SP; the
  // parser rejects it (UpstreamProtocolError -> 502), as node's own client does.
  it.each([
    ['a bare LF', 'Content-Type: text/plain\nX-Injected: yes'],
    ['a bare CR', 'Content-Type: text/plain\rX-Injected: yes'],
    ['a NUL', 'Content-Type: text/plain\x00yes'],
  ])('never passes %s in a copied header value on to the client', (_what, line) => {
    let copied: string[] = [];
    try {
      copied = feedAll(new ResponseParser(), wire(`HTTP/1.1 200 OK\r\n${line}\r\nContent-Length: 2\r\n\r\nok`))[0]?.headers ?? [];
    } catch (err) {
      expect(err).toBeInstanceOf(UpstreamProtocolError);
    }
    expect(copied.join('')).not.toMatch(/[\r\n\0]/);
  });
});

describe('ResponseParser: protocol errors', () => {
  it.each([
    ['a status line that is not HTTP', 'SSH-2.0-OpenSSH_9.6\r\n\r\n'],
    ['an HTTP/2 status line', 'HTTP/2 200\r\nContent-Length: 0\r\n\r\n'],
    ['HTTP/1.2', 'HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ['a four-digit status', 'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n'],
    ['a lowercase protocol name', 'http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ['a non-numeric Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n'],
    ['a negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['a Content-Length list', 'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok'],
    ['conflicting Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\nok'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['a negative chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n'],
    ['chunk data longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n'],
    ['101 Switching Protocols', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
  ])('throws UpstreamProtocolError for %s', (_what, text) => {
    expect(() => new ResponseParser().feed(wire(text))).toThrow(UpstreamProtocolError);
  });

  it('throws UpstreamProtocolError for a chunk size line over 1 KiB without its end', () => {
    const parser = new ResponseParser();
    parser.feed(wire('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'));
    expect(() => parser.feed(wire('1;' + 'x'.repeat(1100)))).toThrow(UpstreamProtocolError);
  });

  it(`throws UpstreamProtocolError once a head grows past ${MAX_HEAD_BYTES} bytes without its blank line`, () => {
    const parser = new ResponseParser();
    expect(parser.feed(wire('HTTP/1.1 200 OK\r\nX-Long: ' + 'a'.repeat(MAX_HEAD_BYTES - 100)))).toEqual([]);
    expect(() => parser.feed(wire('a'.repeat(200)))).toThrow(UpstreamProtocolError);
  });

  it('carries the code UPSTREAM_PROTOCOL', () => {
    let caught: unknown;
    try {
      new ResponseParser().feed(wire('garbage\r\n\r\n'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'UPSTREAM_PROTOCOL' });
  });
});

describe('ResponseParser: started', () => {
  /** `started` after feeding these bytes to a new parser (one byte at a time when `bytewise`). */
  function startedAfter(text: string, bytewise = false): boolean {
    const parser = new ResponseParser();
    if (bytewise) feedBytewise(parser, wire(text));
    else parser.feed(wire(text));
    return parser.started;
  }

  it('is false before any byte', () => {
    expect(new ResponseParser().started).toBe(false);
  });

  it.each([
    [true, 'part of a head', 'HTTP/1.1 2'],
    [true, 'a head whose body is incomplete', 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n'],
    [true, 'a skipped 1xx head', 'HTTP/1.1 100 Continue\r\n\r\n'],
    [false, 'a complete response', OK_JSON],
    [true, 'a complete response and the start of the next', OK_JSON + 'HTTP/1.1 20'],
  ])('is %s after %s', (started, _what, text) => {
    expect(startedAfter(text)).toBe(started);
  });

  it('is false after a response completed on its last byte', () => {
    expect(startedAfter(OK_JSON, true)).toBe(false);
  });
});

describe('responseHead', () => {
  it('writes the status line with the standard reason phrase, the headers in order and the blank line', () => {
    expect(responseHead(200, ['content-type', 'application/json', 'content-length', '11', 'x-served-by', 'blue'])).toBe(
      'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nx-served-by: blue\r\n\r\n',
    );
  });

  it.each([
    [413, 'HTTP/1.1 413 Payload Too Large\r\n\r\n'],
    [429, 'HTTP/1.1 429 Too Many Requests\r\n\r\n'],
    [503, 'HTTP/1.1 503 Service Unavailable\r\n\r\n'],
    [504, 'HTTP/1.1 504 Gateway Timeout\r\n\r\n'],
  ])('writes the reason phrase of %i', (status, expected) => {
    expect(responseHead(status, [])).toBe(expected);
  });

  it('keeps a repeated header name as separate lines', () => {
    expect(responseHead(204, ['vary', 'accept', 'vary', 'accept-encoding'])).toBe('HTTP/1.1 204 No Content\r\nvary: accept\r\nvary: accept-encoding\r\n\r\n');
  });

  it('writes "Unknown" for a status without a standard reason phrase', () => {
    expect(responseHead(599, [])).toBe('HTTP/1.1 599 Unknown\r\n\r\n');
  });

  it('writes a head the ResponseParser reads back', () => {
    const head = responseHead(201, ['Content-Type', 'text/plain', 'Content-Length', '2']);
    expect(feedAll(new ResponseParser(), wire(head + 'ok'))).toEqual([{ status: 201, headers: ['Content-Type', 'text/plain'], body: wire('ok'), keepAlive: true }]);
  });
});

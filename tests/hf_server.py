#!/usr/bin/env python3
"""A stand-in for the Hugging Face endpoints glmchat pull uses, for
tests/test_pull.sh (no test may reach the internet), and a GGUF splitter
written independently of glmchat's C code.

  hf_server.py serve ROOT PORTFILE LOGFILE
      ROOT/OWNER/NAME/... are the repositories. Serves
        GET /api/models/OWNER/NAME/tree/main[?recursive=true]
            [{"type","path","size","oid","lfs":{"oid": sha256,"size"}}]
        GET /OWNER/NAME/resolve/main/PATH  -> 302 to /cdn/OWNER/NAME/PATH
        GET /cdn/OWNER/NAME/PATH           (Range: bytes=N- supported)
      Repositories behave differently by name:
        *bad*    the listed sha256 of every file is wrong
        *flaky*  the first download of each file stops half way
        *gated*  everything answers 401 without "Authorization: Bearer secret-token"
      Each request is logged as "METHOD PATH range=... auth=yes|no".

  hf_server.py split SRC.gguf OUTPREFIX N
      Writes OUTPREFIX-00001-of-0000N.gguf ... the way llama.cpp's
      gguf-split does: the first part has all metadata, every part the
      split.no / split.count / split.tensors.count keys and its tensors.
"""
import hashlib
import http.server
import json
import os
import struct
import sys
import threading
import urllib.parse

# ---------------------------------------------------------------- GGUF split

# (block elements, block bytes) of the ggml types the fixtures use
TYPE_BLOCK = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24),
              8: (32, 34), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
              14: (256, 210), 20: (32, 18), 23: (256, 136), 30: (1, 2)}
SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def _skip_value(buf, off, t):
    if t in SCALAR:
        return off + SCALAR[t]
    if t == 8:
        (n,) = struct.unpack_from('<Q', buf, off)
        return off + 8 + n
    if t == 9:
        et, n = struct.unpack_from('<IQ', buf, off)
        off += 12
        for _ in range(n):
            off = _skip_value(buf, off, et)
        return off
    raise ValueError('bad GGUF value type %d' % t)


def read_gguf(buf):
    assert buf[:4] == b'GGUF'
    _, n_t, n_kv = struct.unpack_from('<IQQ', buf, 4)
    off = 24
    kvs, alignment = [], 32
    for _ in range(n_kv):
        (klen,) = struct.unpack_from('<Q', buf, off)
        key = buf[off + 8:off + 8 + klen].decode()
        start = off + 8 + klen
        (t,) = struct.unpack_from('<I', buf, start)
        end = _skip_value(buf, start + 4, t)
        if key == 'general.alignment':
            (alignment,) = struct.unpack_from('<I', buf, start + 4)
        kvs.append((key, buf[start:end]))        # type + value, raw
        off = end
    infos = []
    for _ in range(n_t):
        (nlen,) = struct.unpack_from('<Q', buf, off)
        name = buf[off + 8:off + 8 + nlen]
        off += 8 + nlen
        (nd,) = struct.unpack_from('<I', buf, off)
        dims = struct.unpack_from('<%dQ' % nd, buf, off + 4)
        (t,) = struct.unpack_from('<I', buf, off + 4 + 8 * nd)
        (o,) = struct.unpack_from('<Q', buf, off + 8 + 8 * nd)
        off += 16 + 8 * nd
        be, bb = TYPE_BLOCK[t]
        n = 1
        for d in dims:
            n *= d
        infos.append((name, dims, t, o, n // be * bb))
    data = (off + alignment - 1) // alignment * alignment
    tensors = [(name, dims, t, buf[data + o:data + o + nb]) for name, dims, t, o, nb in infos]
    return kvs, tensors, alignment


def _str(b):
    return struct.pack('<Q', len(b)) + b


def write_gguf(path, kvs, tensors, alignment):
    out = bytearray(b'GGUF' + struct.pack('<IQQ', 3, len(tensors), len(kvs)))
    for key, raw in kvs:
        out += _str(key.encode()) + raw
    off = 0
    for name, dims, t, data in tensors:
        out += _str(name) + struct.pack('<I', len(dims)) + struct.pack('<%dQ' % len(dims), *dims)
        out += struct.pack('<IQ', t, off)
        off += (len(data) + alignment - 1) // alignment * alignment
    out += b'\0' * (-len(out) % alignment)
    for _, _, _, data in tensors:
        out += data + b'\0' * (-len(data) % alignment)
    with open(path, 'wb') as f:
        f.write(out)


def split(src, prefix, n):
    with open(src, 'rb') as f:
        kvs, tensors, alignment = read_gguf(f.read())
    per = (len(tensors) + n - 1) // n
    for i in range(n):
        mine = tensors[i * per:(i + 1) * per]
        keys = [('split.no', struct.pack('<IH', 2, i)),
                ('split.count', struct.pack('<IH', 2, n)),
                ('split.tensors.count', struct.pack('<Ii', 5, len(tensors)))]
        # llama.cpp keeps the metadata in the first part only
        extra = [kv for kv in kvs if kv[0] == 'general.alignment']
        write_gguf('%s-%05d-of-%05d.gguf' % (prefix, i + 1, n),
                   (kvs + keys) if i == 0 else (extra + keys), mine, alignment)

# ---------------------------------------------------------------- server


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    root = '.'
    log = None
    served = set()
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def note(self):
        with self.lock:
            self.log.write('%s %s range=%s auth=%s\n' % (
                self.command, self.path, self.headers.get('Range', '-'),
                'yes' if self.headers.get('Authorization') else 'no'))
            self.log.flush()

    def send(self, code, body=b'', ctype='application/json', extra=()):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def repo_of(self, parts):
        if len(parts) < 2 or '..' in parts:
            return None
        d = os.path.join(self.root, parts[0], parts[1])
        return d if os.path.isdir(d) else None

    def tree(self, repo_dir, name):
        out = []
        for dirpath, dirnames, filenames in os.walk(repo_dir):
            dirnames.sort()
            rel = os.path.relpath(dirpath, repo_dir)
            for d in dirnames:
                out.append({'type': 'directory', 'oid': '0' * 40,
                            'path': os.path.normpath(os.path.join(rel, d))})
            for fn in sorted(filenames):
                p = os.path.join(dirpath, fn)
                with open(p, 'rb') as f:
                    sha = hashlib.sha256(f.read()).hexdigest()
                if 'bad' in name:
                    sha = hashlib.sha256(sha.encode()).hexdigest()
                out.append({'type': 'file', 'oid': hashlib.sha1(sha.encode()).hexdigest(),
                            'size': os.path.getsize(p),
                            'path': os.path.normpath(os.path.join(rel, fn)),
                            'lfs': {'oid': sha, 'size': os.path.getsize(p), 'pointerSize': 134}})
        return out

    def do_GET(self):
        self.note()
        url = urllib.parse.urlsplit(self.path)
        parts = [urllib.parse.unquote(p) for p in url.path.split('/') if p]
        if len(parts) >= 3 and parts[0] == 'api' and parts[1] == 'models':
            repo = parts[2:4]
            rest = parts[4:]
        elif parts[:1] == ['cdn']:
            repo, rest = parts[1:3], parts[3:]
        else:
            repo, rest = parts[0:2], parts[2:]
        d = self.repo_of(repo)
        if not d:
            return self.send(404, b'{"error":"Repository not found"}')
        if 'gated' in repo[1] and self.headers.get('Authorization') != 'Bearer secret-token':
            return self.send(401, b'{"error":"Access to model is restricted"}')
        if parts[0] == 'api' and rest[:2] == ['tree', 'main']:
            return self.send(200, json.dumps(self.tree(d, repo[1])).encode())
        if parts[0] != 'cdn' and rest[:2] == ['resolve', 'main']:
            loc = '/cdn/%s/%s/%s' % (repo[0], repo[1], '/'.join(urllib.parse.quote(p) for p in rest[2:]))
            return self.send(302, b'', extra=[('Location', loc)])
        if parts[0] == 'cdn':
            path = os.path.join(d, *rest)
            if '..' in rest or not os.path.isfile(path):
                return self.send(404, b'{"error":"Entry not found"}')
            return self.file(path, repo[1])
        return self.send(404, b'{"error":"Not found"}')

    def file(self, path, name):
        with open(path, 'rb') as f:
            data = f.read()
        start, code = 0, 200
        rng = self.headers.get('Range')
        if rng and rng.startswith('bytes=') and rng.endswith('-'):
            start = int(rng[6:-1])
            if start >= len(data):
                return self.send(416, b'', extra=[('Content-Range', 'bytes */%d' % len(data))])
            code = 206
        body = data[start:]
        self.send_response(code)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Accept-Ranges', 'bytes')
        if code == 206:
            self.send_header('Content-Range', 'bytes %d-%d/%d' % (start, len(data) - 1, len(data)))
        self.end_headers()
        with self.lock:
            first = path not in self.served
            self.served.add(path)
        if 'flaky' in name and first:
            # the connection drops half way, as a flaky network does
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


def serve(root, portfile, logfile):
    Handler.root = root
    Handler.log = open(logfile, 'a')
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    tmp = portfile + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % srv.server_address[1])
    os.rename(tmp, portfile)
    srv.serve_forever()


if __name__ == '__main__':
    if len(sys.argv) == 5 and sys.argv[1] == 'serve':
        serve(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 5 and sys.argv[1] == 'split':
        split(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)

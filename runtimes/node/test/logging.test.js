'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Runtime } = require('./harness');

const TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

test('console methods write FC lines: time, request id, level; util.format; inner newlines become \\r', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `exports.handler = (e, c, cb) => {
        console.log('event: %s', e.toString());
        console.info('info', { a: 1 });
        console.warn('warn');
        console.error('line one\\nline two');
        console.debug('debug %d', 42);
        cb(null, '');
      };\n`,
    },
  });
  const r = await rt.invoke('world', { requestId: 'rid-1' });
  assert.equal(r.logs.length, 5);
  const expect = [
    '[verbose] event: world', '[info] info { a: 1 }', '[warn] warn', '[error] line one\rline two', '[debug] debug 42',
  ];
  r.logs.forEach((line, i) => {
    const escaped = expect[i].replace(/[[\]{}]/g, (c) => '\\' + c);
    assert.match(line, new RegExp(`^${TIME} rid-1 ${escaped}\\n$`));
  });
  await rt.close();
});

test('process.stdout.write / process.stderr.write pass through as written (strings and Buffers)', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `exports.handler = (e, c, cb) => {
        process.stdout.write('raw out\\nno time');
        process.stderr.write(Buffer.from('raw err\\n'));
        process.stdout.write('6869', 'hex', () => cb(null, 'done'));
      };\n`,
    },
  });
  const r = await rt.invoke('');
  assert.equal(r.text, 'done');
  assert.deepEqual(r.logs, ['raw out\nno time', 'raw err\n', 'hi']);
  await rt.close();
});

test('output is attributed to the request whose code wrote it, under concurrency', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `exports.handler = async (event, context) => {
        const name = event.toString();
        for (let i = 0; i < 5; i++) {
          console.log(name + ' ' + i);
          await new Promise(r => setTimeout(r, name === 'AAA' ? 7 : 3));
          process.stdout.write(name + ' raw ' + i + '\\n');
        }
        context.logger.info(name + ' via logger');
        return name;
      };\n`,
    },
  });
  const [a, b] = await Promise.all([rt.invoke('AAA', { requestId: 'req-a' }), rt.invoke('BBB', { requestId: 'req-b' })]);
  for (const [r, name, other] of [[a, 'AAA', 'BBB'], [b, 'BBB', 'AAA']]) {
    assert.equal(r.text, name);
    assert.equal(r.logs.length, 11);
    for (const line of r.logs) {
      assert.ok(line.includes(name + ' ') && !line.includes(other + ' '), line);
      if (line.includes('verbose') || line.includes('[info]')) assert.ok(line.includes(` ${r.requestId} `), line);
    }
    assert.match(r.logs[10], new RegExp(`^${TIME} ${r.requestId} \\[info\\] ${name} via logger\\n$`));
  }
  await rt.close();
});

test('module-level output during the first invoke belongs to that request; later stray output to the latest', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `console.log('loading module');
        exports.handler = (e, c, cb) => cb(null, 'ok');
        setTimeout(() => {}, 0);\n`,
    },
  });
  const r = await rt.invoke('', { requestId: 'first' });
  assert.equal(r.logs.length, 1);
  assert.match(r.logs[0], new RegExp(`^${TIME} first \\[verbose\\] loading module\\n$`));
  await rt.close();
});

test('context.logger writes FC lines for its request; setLogLevel changes the log() level tag', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `exports.handler = (e, c, cb) => {
        c.logger.log('plain'); c.logger.warn('w %s', 'x'); c.logger.setLogLevel('info'); c.logger.log('after');
        cb(null, '');
      };\n`,
    },
  });
  const r = await rt.invoke('', { requestId: 'L' });
  assert.deepEqual(r.logs.map((l) => l.replace(/^\S+ /, '')), ['L [silly] plain\n', 'L [warn] w x\n', 'L [info] after\n']);
  await rt.close();
});

test('console.setLogLevel filters console lines below the level', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `exports.handler = (e, c, cb) => {
        console.setLogLevel('warn'); console.log('no'); console.info('no'); console.warn('yes'); console.error('yes');
        console.setLogLevel('silly'); console.debug('yes');
        cb(null, '');
      };\n`,
    },
  });
  const r = await rt.invoke('');
  assert.equal(r.logs.length, 3);
  assert.ok(r.logs.every((l) => l.includes('yes')));
  await rt.close();
});

test('a huge print is cut to 256 KiB with a marker; many prints all arrive in order', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `exports.handler = (e, c, cb) => {
        if (e.toString() === 'big') { process.stdout.write('x'.repeat(3 * 1024 * 1024)); console.log('é'.repeat(300000)); }
        else for (let i = 0; i < 20000; i++) console.log('line ' + i);
        cb(null, 'ok');
      };\n`,
    },
  });
  const big = await rt.invoke('big');
  assert.equal(big.logs.length, 2);
  assert.ok(Buffer.byteLength(big.logs[0]) < 256 * 1024 + 100);
  assert.match(big.logs[0], /\.\.\. \[truncated: 3145728 bytes in total\]\n$/);
  assert.ok(Buffer.byteLength(big.logs[1]) < 256 * 1024 + 100);
  assert.ok(!big.logs[1].includes('\ufffd'), 'cut on a character boundary');
  const many = await rt.invoke('many');
  assert.equal(many.logs.length, 20000);
  assert.ok(many.logs[19999].includes('line 19999'));
  await rt.close();
});

test('console.dir / console.table / console.trace output reaches the log', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `exports.handler = (e, c, cb) => { console.dir({ d: 1 }); console.trace('tr'); cb(null, ''); };\n`,
    },
  });
  const r = await rt.invoke('');
  assert.equal(r.logs[0], '{ d: 1 }\n');
  assert.match(r.logs[1], /\[error\] Trace: tr\r {4}at /);
  await rt.close();
});

test('when the invoker stops reading, log output is bounded; the latest output and the count dropped arrive', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `exports.handler = (e, c, cb) => {
        const line = 'y'.repeat(1024);
        for (let i = 0; i < 60000; i++) console.log(line);  // ~60 MiB of lines in one tick
        process.stdout.write('THE END\\n');
        cb(null, String(process.memoryUsage().rss));
      };\n`,
    },
  });
  rt.ctl.pause();
  const answer = rt.invoke('');
  await new Promise((r) => setTimeout(r, 1500));
  rt.ctl.resume();
  const r = await answer;
  assert.equal(r.type, 'result');
  const rssMiB = Number(r.text) / 1048576;
  assert.ok(rssMiB < 150, `runtime RSS ${rssMiB.toFixed(0)} MiB`);
  assert.ok(r.logs.length < 30000, `${r.logs.length} lines delivered`);
  const frames = rt.frames.filter((f) => f.header.type === 'log' && f.header.requestId === r.requestId);
  const last = frames[frames.length - 1];
  assert.ok(last.header.dropped > 0, JSON.stringify(last.header));
  assert.ok(last.body.toString().endsWith('y\nTHE END\n'), 'the latest output is the real end');
  // Nothing is lost unaccounted: what arrived plus what was dropped is everything written.
  const lineBytes = frames[0].body.length;
  const delivered = frames.reduce((n, f) => n + f.body.length, 0);
  const dropped = frames.reduce((n, f) => n + (f.header.dropped || 0), 0);
  assert.equal(delivered + dropped, 60000 * lineBytes + 'THE END\n'.length);
  await rt.close();
});

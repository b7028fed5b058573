// The jszmq peer of smolmq-ws's interop test (tests/jszmq.rs).
//
//   node peer.js <pair|dealer|req|sub|pub> <connect|bind> [url]
//
// connect: connects to url. bind: binds ws://127.0.0.1:<port>/zmq on an
// HTTP server of its own (port chosen by the system), prints
// "LISTENING <url>" and waits for a peer. Then, by socket type:
//
// pair, dealer, req: sends ["hello", "from", "js"] (every 100 ms until an
//   answer comes; once for req), echoes every message it receives, and
//   exits when one starts with "done".
// sub: subscribes to "news", exits on ["news", "done"].
// pub: publishes ["weather", "rain"] and ["news", "from js"] every 50 ms,
//   until killed.
//
// Every message received is printed as "RECV <hex frames, comma-separated>".
// The peer exits on its own after 60 s whatever happens.

'use strict';

const http = require('http');
const zmq = require('jszmq');

const [type, mode, url] = process.argv.slice(2);

setTimeout(() => {
  console.log('TIMEOUT');
  process.exit(2);
}, 60000).unref();

const socket = zmq.socket(type);
if (type === 'dealer') {
  socket.options.routingId = 'js-dealer';
}

const hex = (frames) => frames.map((f) => Buffer.from(f).toString('hex')).join(',');
const text = (frame) => Buffer.from(frame).toString('utf8');

function start(endpoint) {
  if (type === 'sub') {
    socket.subscribe('news');
    socket.on('message', (...frames) => {
      console.log('RECV ' + hex(frames));
      if (frames.length > 1 && text(frames[1]) === 'done') {
        finish();
      }
    });
    return;
  }
  if (type === 'pub') {
    setInterval(() => {
      socket.send(['weather', 'rain']);
      socket.send(['news', 'from js']);
    }, 50);
    return;
  }
  let answered = false;
  const hello = () => socket.send(['hello', 'from', 'js']);
  socket.on('message', (...frames) => {
    answered = true;
    console.log('RECV ' + hex(frames));
    if (text(frames[0]) === 'done') {
      finish();
      return;
    }
    socket.send(frames.map((f) => Buffer.from(f)));
  });
  hello();
  if (type !== 'req') {
    const timer = setInterval(() => {
      if (answered) {
        clearInterval(timer);
      } else {
        hello();
      }
    }, 100);
  }
}

function finish() {
  console.log('DONE');
  // Let the last frames go out before closing.
  setTimeout(() => {
    socket.close();
    process.exit(0);
  }, 200);
}

if (mode === 'connect') {
  socket.connect(url);
  start(url);
} else if (mode === 'bind') {
  const server = http.createServer();
  server.listen(0, '127.0.0.1', () => {
    const endpoint = `ws://127.0.0.1:${server.address().port}/zmq`;
    socket.bind(endpoint, server);
    // A bound jszmq socket drops what it sends before a peer is there:
    // start once the first one has upgraded.
    server.once('upgrade', () => setTimeout(() => start(endpoint), 100));
    console.log('LISTENING ' + endpoint);
  });
} else {
  console.error('usage: node peer.js <pair|dealer|req|sub|pub> <connect|bind> [url]');
  process.exit(64);
}

<?php
// Ferric's PHP runtime: one process per instance, speaking runtimes/PROTOCOL.md on fd 3.
// FC's PHP model: `function handler($event, $context)` returns a string; HTTP functions are
// `handler($request, $context)` returning a RingCentral\Psr7\Response; `initializer($context)` runs once.

declare(strict_types=1);

require __DIR__ . '/lib/frames.php';
require __DIR__ . '/lib/logger.php';
require __DIR__ . '/lib/psr7.php';
require __DIR__ . '/lib/server.php';

// fd 3 is inherited; the variable naming it must not reach user code.
putenv('FERRIC_CONTROL_FD');
unset($_ENV['FERRIC_CONTROL_FD'], $_SERVER['FERRIC_CONTROL_FD']);

$socket = fopen('php://fd/3', 'r+b');
if ($socket === false) {
    fwrite(STDERR, "ferric php bootstrap: cannot open fd 3\n");
    exit(1);
}
(new \Ferric\Runtime\Server(new \Ferric\Runtime\Frames($socket)))->run();

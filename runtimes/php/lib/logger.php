<?php
// `$GLOBALS['fcLogger']`: FC's PHP logger (PSR-3 style levels), writing
// `<ISO time UTC with ms>Z <requestId> [<LEVEL>] <message>` lines as log frames of the current request.

declare(strict_types=1);

namespace Ferric\Runtime;

final class Logger
{
    /** Each log frame is at most this long (runtimes/PROTOCOL.md). */
    public const MAX_LOG = 256 * 1024;

    private const LEVELS = ['DEBUG' => 100, 'INFO' => 200, 'NOTICE' => 250, 'WARNING' => 300, 'ERROR' => 400,
        'CRITICAL' => 500, 'ALERT' => 550, 'EMERGENCY' => 600];

    public string $requestId = '';
    private int $threshold = 100;

    public function __construct(private Frames $frames)
    {
    }

    /** FC's `setLevel`: lines below it are dropped. Takes a name (`'INFO'`) or Monolog's numbers. */
    public function setLevel(int|string $level): void
    {
        $this->threshold = is_int($level) ? $level : (self::LEVELS[strtoupper($level)] ?? 100);
    }

    public function debug($message, array $context = []): void { $this->log('DEBUG', $message, $context); }
    public function info($message, array $context = []): void { $this->log('INFO', $message, $context); }
    public function notice($message, array $context = []): void { $this->log('NOTICE', $message, $context); }
    public function warning($message, array $context = []): void { $this->log('WARNING', $message, $context); }
    public function warn($message, array $context = []): void { $this->log('WARNING', $message, $context); }
    public function error($message, array $context = []): void { $this->log('ERROR', $message, $context); }
    public function critical($message, array $context = []): void { $this->log('CRITICAL', $message, $context); }
    public function alert($message, array $context = []): void { $this->log('ALERT', $message, $context); }
    public function emergency($message, array $context = []): void { $this->log('EMERGENCY', $message, $context); }

    public function log($level, $message, array $context = []): void
    {
        $level = strtoupper((string) $level);
        if ((self::LEVELS[$level] ?? 200) < $this->threshold) {
            return;
        }
        $text = is_string($message) ? $message : json_encode($message, JSON_UNESCAPED_SLASHES | JSON_PARTIAL_OUTPUT_ON_ERROR);
        if ($context !== []) {
            $text .= ' ' . json_encode($context, JSON_UNESCAPED_SLASHES | JSON_PARTIAL_OUTPUT_ON_ERROR);
        }
        $time = \DateTimeImmutable::createFromFormat('U.u', sprintf('%.6F', microtime(true)));
        $line = $time->format('Y-m-d\TH:i:s.v') . "Z {$this->requestId} [$level] " . str_replace("\n", "\r", $text) . "\n";
        $this->write($line);
    }

    /** Raw output (echo, print) of the current request, cut into frames of at most MAX_LOG bytes. */
    public function write(string $text): void
    {
        for ($at = 0; $at < strlen($text); $at += self::MAX_LOG) {
            $this->frames->write(['type' => 'log', 'requestId' => $this->requestId], substr($text, $at, self::MAX_LOG));
        }
    }
}

<?php
// Length-prefixed frames (runtimes/PROTOCOL.md): u32 total, u32 header length, JSON header, raw body.

declare(strict_types=1);

namespace Ferric\Runtime;

final class Frames
{
    /** The protocol's bound on one frame: 64 MiB + 64 KiB. */
    public const MAX_FRAME = 64 * 1024 * 1024 + 64 * 1024;

    /** @param resource $socket */
    public function __construct(private $socket)
    {
    }

    /** @return array{0: array, 1: string}|null null at EOF */
    public function read(): ?array
    {
        $prefix = $this->readExact(8);
        if ($prefix === null) {
            return null;
        }
        ['total' => $total, 'header' => $headerLength] = unpack('Ntotal/Nheader', $prefix);
        if ($total > self::MAX_FRAME || $headerLength > $total - 4) {
            throw new \RuntimeException("malformed frame (length $total, header $headerLength)");
        }
        $rest = $this->readExact($total - 4);
        if ($rest === null) {
            return null;
        }
        $header = json_decode(substr($rest, 0, $headerLength), true, 64, JSON_THROW_ON_ERROR);
        return [$header, substr($rest, $headerLength)];
    }

    public function write(array $header, string $body = ''): void
    {
        $json = json_encode($header, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
        $frame = pack('NN', 4 + strlen($json) + strlen($body), strlen($json)) . $json . $body;
        for ($written = 0; $written < strlen($frame);) {
            $n = fwrite($this->socket, substr($frame, $written));
            if ($n === false || $n === 0) {
                throw new \RuntimeException('control socket closed');
            }
            $written += $n;
        }
        fflush($this->socket);
    }

    private function readExact(int $length): ?string
    {
        $data = '';
        while (strlen($data) < $length) {
            $chunk = fread($this->socket, $length - strlen($data));
            if ($chunk === false || $chunk === '') {
                return null;
            }
            $data .= $chunk;
        }
        return $data;
    }
}

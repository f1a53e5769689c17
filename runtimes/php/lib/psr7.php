<?php
// The few PSR-7 classes FC's PHP HTTP functions use, under the names FC ships (RingCentral\Psr7): a request
// with getMethod/getUri/getHeaders/getHeaderLine/getBody/getQueryParams/getAttribute, and a Response the
// handler returns. Written here because the runtime loads no Composer packages; immutable `with*` as PSR-7 says.

declare(strict_types=1);

namespace RingCentral\Psr7;

class Stream
{
    public function __construct(private string $contents = '')
    {
    }
    public function getContents(): string { return $this->contents; }
    public function getSize(): int { return strlen($this->contents); }
    public function __toString(): string { return $this->contents; }
}

class Uri
{
    public function __construct(private string $path, private string $query, private string $host)
    {
    }
    public function getPath(): string { return $this->path; }
    public function getQuery(): string { return $this->query; }
    public function getHost(): string { return $this->host; }
    public function __toString(): string { return $this->path . ($this->query === '' ? '' : '?' . $this->query); }
}

trait MessageHeaders
{
    /** @var array<string, string[]> */
    private array $headers = [];

    public function getHeaders(): array { return $this->headers; }
    public function hasHeader(string $name): bool { return $this->findHeader($name) !== null; }
    public function getHeader(string $name): array { $key = $this->findHeader($name); return $key === null ? [] : $this->headers[$key]; }
    public function getHeaderLine(string $name): string { return implode(', ', $this->getHeader($name)); }
    public function getBody(): Stream { return $this->body; }
    public function getProtocolVersion(): string { return '1.1'; }

    public function withHeader(string $name, $value): static
    {
        $copy = $this->withoutHeader($name);
        $copy->headers[$name] = array_map('strval', is_array($value) ? array_values($value) : [$value]);
        return $copy;
    }
    public function withAddedHeader(string $name, $value): static
    {
        $copy = clone $this;
        $key = $copy->findHeader($name) ?? $name;
        $copy->headers[$key] = array_merge($copy->headers[$key] ?? [], array_map('strval', (array) $value));
        return $copy;
    }
    public function withoutHeader(string $name): static
    {
        $copy = clone $this;
        $key = $copy->findHeader($name);
        if ($key !== null) {
            unset($copy->headers[$key]);
        }
        return $copy;
    }
    public function withBody($body): static
    {
        $copy = clone $this;
        $copy->body = $body instanceof Stream ? $body : new Stream((string) $body);
        return $copy;
    }

    private function setHeaders(array $headers): void
    {
        foreach ($headers as $name => $value) {
            $this->headers[(string) $name] = array_map('strval', is_array($value) ? array_values($value) : [$value]);
        }
    }
    private function findHeader(string $name): ?string
    {
        foreach ($this->headers as $key => $_) {
            if (strcasecmp((string) $key, $name) === 0) {
                return (string) $key;
            }
        }
        return null;
    }
}

class Response
{
    use MessageHeaders;

    private Stream $body;

    public function __construct(private int $status = 200, array $headers = [], $body = null, string $version = '1.1', private string $reason = '')
    {
        $this->setHeaders($headers);
        $this->body = $body instanceof Stream ? $body : new Stream($body === null ? '' : (string) $body);
    }
    public function getStatusCode(): int { return $this->status; }
    public function getReasonPhrase(): string { return $this->reason; }
    public function withStatus(int $code, string $reason = ''): static
    {
        $copy = clone $this;
        $copy->status = $code;
        $copy->reason = $reason;
        return $copy;
    }
}

class ServerRequest
{
    use MessageHeaders;

    private Stream $body;
    private array $attributes;

    public function __construct(private string $method, private Uri $uri, array $headers, string $body, private array $queryParams, array $attributes)
    {
        $this->setHeaders($headers);
        $this->body = new Stream($body);
        $this->attributes = $attributes;
    }
    public function getMethod(): string { return $this->method; }
    public function getUri(): Uri { return $this->uri; }
    public function getRequestTarget(): string { return (string) $this->uri; }
    /** FC: each query parameter's value, a string (or a list when repeated). */
    public function getQueryParams(): array { return $this->queryParams; }
    public function getAttributes(): array { return $this->attributes; }
    public function getAttribute(string $name, $default = null) { return $this->attributes[$name] ?? $default; }
    public function withAttribute(string $name, $value): static
    {
        $copy = clone $this;
        $copy->attributes[$name] = $value;
        return $copy;
    }
    public function getServerParams(): array { return []; }
    public function getCookieParams(): array { return []; }
    public function getParsedBody() { return null; }
}

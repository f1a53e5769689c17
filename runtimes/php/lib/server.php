<?php
// The request loop: `ready`, `init`, then `initialize` / `invoke` frames until fd 3 reaches EOF. PHP runs one
// request at a time, so requests of an instance with instanceConcurrency > 1 simply wait their turn here.

declare(strict_types=1);

namespace Ferric\Runtime;

final class Server
{
    private array $init = [];
    private Logger $logger;
    /** Handler files already loaded, by path: a file is required once per instance, like FC's runtime. */
    private array $loaded = [];

    public function __construct(private Frames $frames)
    {
        $this->logger = new Logger($frames);
        $GLOBALS['fcLogger'] = $this->logger;
    }

    public function run(): void
    {
        $this->frames->write(['type' => 'ready', 'runtime' => 'php ' . PHP_VERSION]);
        // Everything user code prints (echo, warnings) becomes log frames of the current request.
        ob_start(function (string $buffer): string {
            if ($buffer !== '') {
                $this->logger->write($buffer);
            }
            return '';
        }, 64 * 1024);
        // PHP runs with display_errors off (it would print fatal errors past the output buffer, onto stdout):
        // warnings and notices are logged here, as PHP words them, unless `@` silenced them.
        set_error_handler(function (int $type, string $message, string $file, int $line): bool {
            if ((error_reporting() & $type) !== 0) {
                $this->logger->write(sprintf("PHP %s:  %s in %s on line %d\n", self::errorName($type), $message, $file, $line));
            }
            return true;
        });
        // A fatal error (memory exhausted, an undefined function) ends the process: it is logged against the
        // request first, and the invoker then answers "Process exited unexpectedly".
        register_shutdown_function(function (): void {
            while (ob_get_level() > 0) {
                ob_end_flush();
            }
            $last = error_get_last();
            if ($last !== null && ($last['type'] & (E_ERROR | E_PARSE | E_CORE_ERROR | E_COMPILE_ERROR)) !== 0) {
                $this->logger->write(sprintf("PHP Fatal error:  %s in %s on line %d\n", $last['message'], $last['file'], $last['line']));
            }
        });
        while (($frame = $this->frames->read()) !== null) {
            [$header, $body] = $frame;
            switch ($header['type'] ?? '') {
                case 'init':
                    $this->init = $header;
                    break;
                case 'initialize':
                    $this->answer($header, fn (array $context) => $this->initialize($context));
                    break;
                case 'invoke':
                    $this->answer($header, fn (array $context) => $this->invoke($header, $body, $context));
                    break;
            }
        }
    }

    /** FC's PHP context: an array, as FC's runtime passes it. */
    private function context(array $header): array
    {
        $function = $this->init['function'] ?? [];
        return [
            'requestId' => $header['requestId'] ?? '',
            'credentials' => $header['credentials'] ?? ['accessKeyId' => '', 'accessKeySecret' => '', 'securityToken' => ''],
            'function' => [
                'name' => $function['name'] ?? '',
                'handler' => $function['handler'] ?? '',
                'memory' => $function['memory'] ?? 0,
                'timeout' => $function['timeout'] ?? 0,
                'initializer' => $function['initializer'] ?? '',
                'initializationTimeout' => $function['initializationTimeout'] ?? 0,
            ],
            // An invoke's own `service` names the qualifier the caller asked for (an alias and its
            // versions share instances); the instance's fills the rest.
            'service' => array_merge($this->init['service'] ?? [], is_array($header['service'] ?? null) ? $header['service'] : []),
            'region' => $this->init['region'] ?? '',
            'accountId' => $this->init['accountId'] ?? '',
            'tracing' => self::tracing($header['tracing'] ?? null),
        ];
    }

    /** FC's `tracing` entry of the context, from an invoke's `tracing`, or its empty default. */
    private static function tracing($tracing): array
    {
        $tracing = is_array($tracing) ? $tracing : [];
        $baggages = $tracing['openTracingSpanBaggages'] ?? [];
        return [
            'openTracingSpanContext' => (string) ($tracing['openTracingSpanContext'] ?? ''),
            'jaegerEndpoint' => (string) ($tracing['jaegerEndpoint'] ?? ''),
            'openTracingSpanBaggages' => is_array($baggages) ? $baggages : [],
        ];
    }

    private function answer(array $header, callable $run): void
    {
        $id = $header['id'] ?? 0;
        $this->logger->requestId = (string) ($header['requestId'] ?? '');
        try {
            [$reply, $body] = $run($this->context($header));
            ob_flush();
            $this->frames->write(['type' => 'result', 'id' => $id] + $reply, $body);
        } catch (\Throwable $error) {
            ob_flush();
            $json = json_encode(self::describe($error), JSON_UNESCAPED_SLASHES | JSON_PARTIAL_OUTPUT_ON_ERROR);
            $this->logger->error($json);
            $this->frames->write(['type' => 'error', 'id' => $id, 'errorType' => 'UnhandledInvocationError'], $json);
        }
    }

    private function initialize(array $context): array
    {
        $initializer = $this->init['function']['initializer'] ?? null;
        if (is_string($initializer) && $initializer !== '') {
            ($this->resolve($initializer))($context);
        }
        return [[], ''];
    }

    private function invoke(array $header, string $body, array $context): array
    {
        $handler = $this->resolve((string) ($this->init['function']['handler'] ?? ''));
        $http = $header['http'] ?? null;
        if (!is_array($http)) {
            return [[], self::encode($handler($body, $context))];
        }
        $response = $handler(self::request($http, $body), $context);
        if (!$response instanceof \RingCentral\Psr7\Response) {
            throw new \TypeError('an HTTP handler must return a RingCentral\Psr7\Response, got ' . get_debug_type($response));
        }
        $headers = array_map(fn ($values) => array_values($values), $response->getHeaders());
        return [['http' => ['status' => $response->getStatusCode(), 'headers' => (object) $headers]], (string) $response->getBody()];
    }

    /** `index.handler` is function `handler` of `<code>/index.php`; the file is loaded once per instance. */
    private function resolve(string $name): callable
    {
        $dot = strrpos($name, '.');
        if ($dot === false || $dot === 0 || $dot === strlen($name) - 1) {
            throw new UserError("Invalid handler '$name'", 'InvalidHandler');
        }
        $module = substr($name, 0, $dot);
        $function = substr($name, $dot + 1);
        $path = getcwd() . '/' . $module . '.php';
        if (!isset($this->loaded[$path])) {
            if (!is_file($path)) {
                throw new UserError("Unable to import module '$module'", 'ImportModuleError');
            }
            require_once $path;
            $this->loaded[$path] = true;
        }
        if (!function_exists($function)) {
            throw new UserError("Handler '$function' missing on module '$module'", '');
        }
        return $function;
    }

    private static function request(array $http, string $body): \RingCentral\Psr7\ServerRequest
    {
        $uri = (string) ($http['requestURI'] ?? '/');
        $query = (string) (parse_url($uri, PHP_URL_QUERY) ?? '');
        $queries = [];
        foreach ($http['queries'] ?? [] as $name => $values) {
            $queries[$name] = count($values) === 1 ? $values[0] : $values;
        }
        $path = (string) ($http['path'] ?? '/');
        return new \RingCentral\Psr7\ServerRequest(
            (string) ($http['method'] ?? 'GET'),
            new \RingCentral\Psr7\Uri($path, $query, (string) ($http['host'] ?? '')),
            $http['headers'] ?? [],
            $body,
            $queries,
            ['path' => $path, 'requestURI' => $uri, 'clientIP' => (string) ($http['clientIP'] ?? '')],
        );
    }

    /** A handler's return value as result bytes (FC's PHP handlers return strings; the rest as Node does). */
    private static function encode(mixed $value): string
    {
        return match (true) {
            $value === null => '',
            is_string($value) => $value,
            is_bool($value) => $value ? 'true' : 'false',
            is_int($value), is_float($value) => (string) $value,
            default => json_encode($value, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR),
        };
    }

    private static function errorName(int $type): string
    {
        return match ($type) {
            E_WARNING, E_USER_WARNING, E_CORE_WARNING, E_COMPILE_WARNING => 'Warning',
            E_NOTICE, E_USER_NOTICE => 'Notice',
            E_DEPRECATED, E_USER_DEPRECATED => 'Deprecated',
            default => 'Error',
        };
    }

    /** FC's error body: errorMessage, errorType (the class), stackTrace (one string a frame). */
    private static function describe(\Throwable $error): array
    {
        if ($error instanceof UserError) {
            return $error->type === '' ? ['errorMessage' => $error->getMessage()]
                : ['errorMessage' => $error->getMessage(), 'errorType' => $error->type];
        }
        $trace = [sprintf('%s: %s in %s:%d', get_class($error), $error->getMessage(), $error->getFile(), $error->getLine())];
        foreach (explode("\n", $error->getTraceAsString()) as $line) {
            $trace[] = $line;
        }
        return ['errorMessage' => $error->getMessage(), 'errorType' => get_class($error), 'stackTrace' => $trace];
    }
}

/** A failure of the function's setup (not of its code), reported with FC's own message and type. */
final class UserError extends \Exception
{
    public function __construct(string $message, public readonly string $type)
    {
        parent::__construct($message);
    }
}

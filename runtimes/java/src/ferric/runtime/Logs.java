package ferric.runtime;

import com.aliyun.fc.runtime.FunctionComputeLogger;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The function's output as {@code log} frames, line-buffered per request id and per channel. {@code System.out},
 * {@code System.err} and the logger write here; the request of a write is the one its thread runs (threads a
 * handler starts inherit it), or "" outside any request, which the invoker gives to the most recent one.
 * Each channel of each request has its own line buffer, as each stream of a process has its own bytes: a
 * line half-printed to System.err is never completed by a System.out line or another request's output.
 * Writes to the socket block, so a function printing faster than the invoker reads is slowed, never
 * buffered without bound; an unterminated line is sent once it reaches {@link #MAX_FRAME_TEXT}.
 */
final class Logs {
    static final int MAX_FRAME_TEXT = 256 * 1024;
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private final Frames frames;
    private final InheritableThreadLocal<String> current = new InheritableThreadLocal<>();
    /** Where a write comes from; each has its own line buffer per request. */
    enum Channel { OUT, ERR, LOGGER }

    private final Map<String, ByteArrayOutputStream> pending = new HashMap<>();
    private volatile FunctionComputeLogger.Level level;

    Logs(Frames frames, FunctionComputeLogger.Level level) {
        this.frames = frames;
        this.level = level;
    }

    /** FC_SERVER_LOG_LEVEL's level, INFO when unset or unknown. */
    static FunctionComputeLogger.Level levelFrom(String name) {
        if (name != null) {
            for (FunctionComputeLogger.Level l : FunctionComputeLogger.Level.values()) {
                if (l.name().equalsIgnoreCase(name.trim())) {
                    return l;
                }
            }
        }
        return FunctionComputeLogger.Level.INFO;
    }

    /** Marks the calling thread as running {@code requestId} (null: none). */
    void enter(String requestId) {
        current.set(requestId);
    }

    String currentRequest() {
        String id = current.get();
        return id == null ? "" : id;
    }

    /** A stream for System.out or System.err. */
    OutputStream stream(final Channel channel) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                append(channel, currentRequest(), b, off, len);
            }

            /**
             * PrintStream flushes after every write when auto-flushing, so a flush keeps a request's
             * unterminated line: it goes out with its newline or when the request ends ({@link #finish}),
             * not cut in two by the next line of another thread. Output outside any request has no end to
             * wait for and goes out now.
             */
            @Override
            public void flush() throws IOException {
                String request = currentRequest();
                if (request.isEmpty()) {
                    finish(channel, request);
                }
            }
        };
    }

    private static String key(Channel channel, String requestId) {
        return channel.name() + ' ' + requestId;
    }

    /** Buffers output of {@code requestId} on {@code channel} and sends every complete line of it. */
    void append(Channel channel, String requestId, byte[] b, int off, int len) throws IOException {
        byte[] ready = null;
        synchronized (pending) {
            ByteArrayOutputStream buffer = pending.computeIfAbsent(key(channel, requestId), k -> new ByteArrayOutputStream());
            buffer.write(b, off, len);
            byte[] all = buffer.toByteArray();
            int cut = lastNewline(all) + 1;
            if (cut == 0 && all.length >= MAX_FRAME_TEXT) {
                cut = all.length;
            }
            if (cut > 0) {
                ready = java.util.Arrays.copyOf(all, cut);
                buffer.reset();
                buffer.write(all, cut, all.length - cut);
            }
        }
        if (ready != null) {
            send(requestId, ready);
        }
    }

    /** Sends what is left of {@code requestId}'s output on every channel, before its answer. */
    void finish(String requestId) throws IOException {
        for (Channel channel : Channel.values()) {
            finish(channel, requestId);
        }
    }

    private void finish(Channel channel, String requestId) throws IOException {
        byte[] rest;
        synchronized (pending) {
            ByteArrayOutputStream buffer = pending.remove(key(channel, requestId));
            if (buffer == null || buffer.size() == 0) {
                return;
            }
            rest = buffer.toByteArray();
        }
        send(requestId, rest);
    }

    private void send(String requestId, byte[] text) throws IOException {
        for (int at = 0; at < text.length; at += MAX_FRAME_TEXT) {
            int end = Math.min(text.length, at + MAX_FRAME_TEXT);
            Map<String, Object> header = new LinkedHashMap<>();
            header.put("type", "log");
            header.put("requestId", requestId);
            frames.write(header, java.util.Arrays.copyOfRange(text, at, end));
        }
    }

    private static int lastNewline(byte[] b) {
        for (int i = b.length - 1; i >= 0; i--) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** One FC-format line: {@code 2017-07-05T05:13:35.920Z <requestId> [INFO] message}. */
    void line(String requestId, FunctionComputeLogger.Level at, String message) {
        if (at.ordinal() < level.ordinal()) {
            return;
        }
        String text = TIME.format(java.time.Instant.now()) + " " + requestId + " [" + at.name() + "] " + message + "\n";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        try {
            append(Channel.LOGGER, requestId, bytes, 0, bytes.length);
        } catch (IOException e) {
            // The invoker is gone; the process ends when the reader sees EOF.
        }
    }

    /** {@code context.getLogger()}: bound to one request, its level shared by the instance as on FC. */
    FunctionComputeLogger logger(final String requestId) {
        return new FunctionComputeLogger() {
            @Override
            public void trace(String s) {
                line(requestId, Level.TRACE, s);
            }

            @Override
            public void debug(String s) {
                line(requestId, Level.DEBUG, s);
            }

            @Override
            public void info(String s) {
                line(requestId, Level.INFO, s);
            }

            @Override
            public void warn(String s) {
                line(requestId, Level.WARN, s);
            }

            @Override
            public void error(String s) {
                line(requestId, Level.ERROR, s);
            }

            @Override
            public void fatal(String s) {
                line(requestId, Level.FATAL, s);
            }

            @Override
            public void setLogLevel(Level newLevel) {
                if (newLevel != null) {
                    level = newLevel;
                }
            }
        };
    }
}

package com.aliyun.fc.runtime;

/** Writes one line per call, {@code <time> <requestId> [LEVEL] <message>}, into the invocation's log. */
public interface FunctionComputeLogger {
    void trace(String string);

    void debug(String string);

    void info(String string);

    void warn(String string);

    void error(String string);

    void fatal(String string);

    void setLogLevel(Level level);

    enum Level {
        TRACE, DEBUG, INFO, WARN, ERROR, FATAL
    }
}

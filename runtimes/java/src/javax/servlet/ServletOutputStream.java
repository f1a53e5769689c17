package javax.servlet;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** The response body (Servlet 3.1). Text is written as UTF-8. */
public abstract class ServletOutputStream extends OutputStream {
    protected ServletOutputStream() {
    }

    public void print(String s) throws IOException {
        write(String.valueOf(s).getBytes(StandardCharsets.UTF_8));
    }

    public void print(boolean b) throws IOException {
        print(String.valueOf(b));
    }

    public void print(char c) throws IOException {
        print(String.valueOf(c));
    }

    public void print(int i) throws IOException {
        print(String.valueOf(i));
    }

    public void print(long l) throws IOException {
        print(String.valueOf(l));
    }

    public void print(float f) throws IOException {
        print(String.valueOf(f));
    }

    public void print(double d) throws IOException {
        print(String.valueOf(d));
    }

    public void println() throws IOException {
        print("\r\n");
    }

    public void println(String s) throws IOException {
        print(s + "\r\n");
    }

    public void println(boolean b) throws IOException {
        println(String.valueOf(b));
    }

    public void println(char c) throws IOException {
        println(String.valueOf(c));
    }

    public void println(int i) throws IOException {
        println(String.valueOf(i));
    }

    public void println(long l) throws IOException {
        println(String.valueOf(l));
    }

    public void println(float f) throws IOException {
        println(String.valueOf(f));
    }

    public void println(double d) throws IOException {
        println(String.valueOf(d));
    }

    public abstract boolean isReady();

    public abstract void setWriteListener(WriteListener writeListener);
}

package ferric.runtime;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The frames of {@code runtimes/PROTOCOL.md} on the control socket: {@code u32 N, u32 H, header JSON,
 * body}, big-endian. Reads happen on one thread; writes from any thread, one whole frame at a time.
 */
final class Frames {
    /** 64 MiB of body plus 64 KiB of header, as the invoker allows. */
    static final int MAX_FRAME = 64 * 1024 * 1024 + 64 * 1024;

    /** One received message: its JSON header and its body. */
    static final class Frame {
        final Map<String, Object> header;
        final byte[] body;

        Frame(Map<String, Object> header, byte[] body) {
            this.header = header;
            this.body = body;
        }

        String type() {
            Object t = header.get("type");
            return t instanceof String ? (String) t : "";
        }
    }

    private final DataInputStream in;
    private final OutputStream out;

    Frames(DataInputStream in, OutputStream out) {
        this.in = in;
        this.out = out;
    }

    /**
     * The control socket at fd 3. Java opens no descriptor by number, so a {@link FileDescriptor} is pointed
     * at it through its private field; the JVM is started with {@code --add-opens java.base/java.io} for that.
     * Plain read(2)/write(2) work on a socket, and Java's process launcher closes it in children.
     */
    static Frames openControlFd(int fd) throws ReflectiveOperationException {
        FileDescriptor descriptor = new FileDescriptor();
        Field field = FileDescriptor.class.getDeclaredField("fd");
        field.setAccessible(true);
        field.setInt(descriptor, fd);
        return new Frames(new DataInputStream(new FileInputStream(descriptor)), new FileOutputStream(descriptor));
    }

    /** The next frame, or null at end of stream. A malformed frame throws. */
    @SuppressWarnings("unchecked")
    Frame read() throws IOException {
        int total;
        try {
            total = in.readInt();
        } catch (EOFException e) {
            return null;
        }
        if (total < 4 || total > MAX_FRAME) {
            throw new IOException("malformed frame: length " + total);
        }
        int headerLength = in.readInt();
        if (headerLength < 0 || headerLength > total - 4) {
            throw new IOException("malformed frame: header length " + headerLength);
        }
        byte[] header = new byte[headerLength];
        in.readFully(header);
        byte[] body = new byte[total - 4 - headerLength];
        in.readFully(body);
        Object parsed;
        try {
            parsed = Json.parse(new String(header, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IOException("malformed frame header: " + e.getMessage());
        }
        if (!(parsed instanceof Map)) {
            throw new IOException("malformed frame header: not an object");
        }
        return new Frame((Map<String, Object>) parsed, body);
    }

    /** Sends one frame. A body too large for a frame is the caller's to avoid. */
    synchronized void write(Map<String, Object> header, byte[] body) throws IOException {
        byte[] head = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int total = 4 + head.length + body.length;
        byte[] prefix = new byte[8];
        putInt(prefix, 0, total);
        putInt(prefix, 4, head.length);
        out.write(prefix);
        out.write(head);
        out.write(body);
        out.flush();
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }
}

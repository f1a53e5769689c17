package ferric.runtime;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON values to and from a POJO handler's types, by bean conventions: setters {@code setX} or public
 * fields in, getters {@code getX}/{@code isX} and public fields out; unknown keys are ignored.
 */
final class Pojo {
    private Pojo() {
    }

    static Object to(Object json, Type type) throws ReflectiveOperationException {
        Class<?> raw = rawClass(type);
        if (json == null) {
            return raw.isPrimitive() ? to(0L, type) : null;
        }
        if (raw == Object.class) {
            return json;
        }
        if (raw == String.class) {
            return json instanceof String ? json : Json.write(json);
        }
        if (raw == int.class || raw == Integer.class) {
            return ((Number) json).intValue();
        }
        if (raw == long.class || raw == Long.class) {
            return ((Number) json).longValue();
        }
        if (raw == double.class || raw == Double.class) {
            return ((Number) json).doubleValue();
        }
        if (raw == float.class || raw == Float.class) {
            return ((Number) json).floatValue();
        }
        if (raw == short.class || raw == Short.class) {
            return ((Number) json).shortValue();
        }
        if (raw == byte.class || raw == Byte.class) {
            return ((Number) json).byteValue();
        }
        if (raw == boolean.class || raw == Boolean.class) {
            return json;
        }
        if (raw.isEnum()) {
            for (Object constant : raw.getEnumConstants()) {
                if (((Enum<?>) constant).name().equals(json)) {
                    return constant;
                }
            }
            throw new IllegalArgumentException("no " + raw.getName() + " constant " + json);
        }
        Type[] args = type instanceof ParameterizedType ? ((ParameterizedType) type).getActualTypeArguments() : new Type[0];
        if (Map.class.isAssignableFrom(raw)) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : FcContext.map(json).entrySet()) {
                out.put(e.getKey(), args.length == 2 ? to(e.getValue(), args[1]) : e.getValue());
            }
            return out;
        }
        if (Collection.class.isAssignableFrom(raw) || raw.isArray()) {
            List<Object> out = new ArrayList<>();
            Type item = raw.isArray() ? raw.getComponentType() : args.length == 1 ? args[0] : Object.class;
            for (Object o : (List<?>) json) {
                out.add(to(o, item));
            }
            if (!raw.isArray()) {
                return out;
            }
            Object array = Array.newInstance(raw.getComponentType(), out.size());
            for (int i = 0; i < out.size(); i++) {
                Array.set(array, i, out.get(i));
            }
            return array;
        }
        Object bean = raw.getDeclaredConstructor().newInstance();
        for (Map.Entry<String, Object> e : FcContext.map(json).entrySet()) {
            String key = e.getKey();
            if (key.isEmpty()) {
                continue;
            }
            Method setter = setter(raw, "set" + Character.toUpperCase(key.charAt(0)) + key.substring(1));
            if (setter != null) {
                setter.invoke(bean, to(e.getValue(), setter.getGenericParameterTypes()[0]));
                continue;
            }
            try {
                Field f = raw.getField(key);
                if (!Modifier.isStatic(f.getModifiers())) {
                    f.set(bean, to(e.getValue(), f.getGenericType()));
                }
            } catch (NoSuchFieldException ignored) {
                // Unknown keys are ignored.
            }
        }
        return bean;
    }

    private static Method setter(Class<?> raw, String name) {
        for (Method m : raw.getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == 1 && !Modifier.isStatic(m.getModifiers())) {
                return m;
            }
        }
        return null;
    }

    static Class<?> rawClass(Type type) {
        if (type instanceof Class) {
            return (Class<?>) type;
        }
        if (type instanceof ParameterizedType) {
            return (Class<?>) ((ParameterizedType) type).getRawType();
        }
        return Object.class;
    }

    /** A value as JSON-writable maps, lists and scalars. */
    static Object from(Object value, int depth) throws ReflectiveOperationException {
        if (depth > 256) {
            throw new IllegalArgumentException("result nested too deeply (a cycle?)");
        }
        if (value == null || value instanceof String || value instanceof Number || value instanceof Boolean) {
            return value;
        }
        if (value instanceof Character || value instanceof Enum) {
            return value instanceof Enum ? ((Enum<?>) value).name() : value.toString();
        }
        if (value instanceof Map) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                out.put(String.valueOf(e.getKey()), from(e.getValue(), depth + 1));
            }
            return out;
        }
        if (value instanceof Collection) {
            List<Object> out = new ArrayList<>();
            for (Object o : (Collection<?>) value) {
                out.add(from(o, depth + 1));
            }
            return out;
        }
        if (value.getClass().isArray()) {
            List<Object> out = new ArrayList<>();
            for (int i = 0; i < Array.getLength(value); i++) {
                out.add(from(Array.get(value, i), depth + 1));
            }
            return out;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Method m : value.getClass().getMethods()) {
            String n = m.getName();
            if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || n.equals("getClass")) {
                continue;
            }
            String prop = n.startsWith("get") && n.length() > 3 ? n.substring(3)
                    : n.startsWith("is") && n.length() > 2 && m.getReturnType() == boolean.class ? n.substring(2) : null;
            if (prop != null) {
                out.put(Character.toLowerCase(prop.charAt(0)) + prop.substring(1), from(m.invoke(value), depth + 1));
            }
        }
        for (Field f : value.getClass().getFields()) {
            if (!Modifier.isStatic(f.getModifiers()) && !out.containsKey(f.getName())) {
                out.put(f.getName(), from(f.get(value), depth + 1));
            }
        }
        return out;
    }
}

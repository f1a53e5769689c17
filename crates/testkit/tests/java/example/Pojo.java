package example;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.PojoRequestHandler;
import java.util.List;

/** A POJO handler: JSON in, JSON out. */
public class Pojo implements PojoRequestHandler<Pojo.Request, Pojo.Response> {
    public static class Request {
        private String name;
        public List<Integer> numbers;

        public void setName(String name) {
            this.name = name;
        }

        public String getName() {
            return name;
        }
    }

    public static class Response {
        private final String greeting;
        private final int sum;

        Response(String greeting, int sum) {
            this.greeting = greeting;
            this.sum = sum;
        }

        public String getGreeting() {
            return greeting;
        }

        public int getSum() {
            return sum;
        }
    }

    @Override
    public Response handleRequest(Request input, Context context) {
        int sum = 0;
        for (int n : input.numbers) {
            sum += n;
        }
        return new Response("hello " + input.getName(), sum);
    }
}

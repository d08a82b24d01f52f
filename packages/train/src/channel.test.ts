import { describe, expect, it } from "vitest";
import { errorReply, RequestChannel, type ChannelEndpoint, type ErrorReply } from "./channel.js";

type Request = { kind: "double"; value: number } | { kind: "fail" };
type Reply = { kind: "ready" } | { kind: "doubled"; value: number };

/** An endpoint served in this thread: it answers on a later task, like a thread or process would. */
function fakeEndpoint(): {
  endpoint: ChannelEndpoint<Request, Reply>;
  send(message: Reply | ErrorReply): void;
  crash(reason: string): void;
  holds: boolean[];
  closed: boolean;
} {
  let onMessage: (message: Reply | ErrorReply) => void = () => {};
  let onFailure: (reason: string) => void = () => {};
  const fake = {
    holds: [] as boolean[],
    closed: false,
    send: (message: Reply | ErrorReply) => setTimeout(() => onMessage(message), 1),
    crash: (reason: string) => setTimeout(() => onFailure(reason), 1),
    endpoint: {
      post(request: Request) {
        fake.send(request.kind === "double" ? { kind: "doubled", value: 2 * request.value } : errorReply(new Error("cannot")));
      },
      listen(message: (reply: Reply | ErrorReply) => void, failure: (reason: string) => void) {
        onMessage = message;
        onFailure = failure;
      },
      hold: (held: boolean) => void fake.holds.push(held),
      close: async () => {
        fake.closed = true;
      },
    },
  };
  return fake;
}

const failure = (operation: string, reason: string): Error => new Error(`${operation}: ${reason}`);

describe("RequestChannel", () => {
  it("resolves the start-up message and each request's reply, holding the far end only while one is awaited", async () => {
    const fake = fakeEndpoint();
    const channel = new RequestChannel(fake.endpoint, failure);
    expect(fake.holds).toEqual([]);
    fake.send({ kind: "ready" });
    expect(await channel.started()).toEqual({ kind: "ready" });
    expect(await channel.request({ kind: "double", value: 21 })).toEqual({ kind: "doubled", value: 42 });
    expect(await channel.request({ kind: "double", value: 4 })).toEqual({ kind: "doubled", value: 8 });
    expect(fake.holds).toEqual([true, false, true, false, true, false]);
    await channel.close();
    expect(fake.closed).toBe(true);
  });

  it("turns an error reply into the error of that request and of every later one", async () => {
    const fake = fakeEndpoint();
    const channel = new RequestChannel(fake.endpoint, failure);
    fake.send({ kind: "ready" });
    await channel.started();
    await expect(channel.request({ kind: "fail" })).rejects.toThrow('fail: the error "cannot"');
    await expect(channel.request({ kind: "double", value: 1 })).rejects.toThrow('fail: the error "cannot"');
  });

  it("turns a crash into the error of the request in flight, or of start-up, and refuses a second request in flight", async () => {
    const crashed = fakeEndpoint();
    const starting = new RequestChannel(crashed.endpoint, failure);
    crashed.crash("the thread exiting with code 1");
    await expect(starting.started()).rejects.toThrow("start-up: the thread exiting with code 1");

    const fake = fakeEndpoint();
    const channel = new RequestChannel(fake.endpoint, failure);
    fake.send({ kind: "ready" });
    await channel.started();
    const first = channel.request({ kind: "double", value: 1 });
    await expect(channel.request({ kind: "double", value: 2 })).rejects.toThrow(/one request at a time/);
    expect(await first).toEqual({ kind: "doubled", value: 2 });
    fake.endpoint.post = () => fake.crash("the process exiting with code 9");
    await expect(channel.request({ kind: "double", value: 3 })).rejects.toThrow("double: the process exiting with code 9");
    expect(fake.holds.at(-1)).toBe(false);
  });
});

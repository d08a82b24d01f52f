/** The reply by which the far end of a channel reports that it failed to start or to handle a request. */
export interface ErrorReply {
  kind: "error";
  message: string;
}

/** An ErrorReply for what a request handler (or start-up) threw. */
export function errorReply(error: unknown): ErrorReply {
  return { kind: "error", message: error instanceof Error ? error.message : String(error) };
}

/**
 * The far end of a RequestChannel, whatever carries the messages: a worker thread, a child
 * process, a Web Worker. The far end sends one message unasked when it is up, then exactly one
 * reply per request.
 */
export interface ChannelEndpoint<Request, Reply> {
  /** Sends a request; the `transfer` buffers are moved to the far end, not copied (where the carrier can). */
  post(request: Request, transfer?: ArrayBuffer[]): void;
  /** Called once by the channel: `message` for every message, `failure` when the far end crashes or exits, with the reason in words. */
  listen(message: (reply: Reply | ErrorReply) => void, failure: (reason: string) => void): void;
  /** Whether the far end may keep this process alive; true only while a reply is awaited (default: it always may). */
  hold?(held: boolean): void;
  /** Stops the far end. */
  close(): Promise<void>;
}

interface Pending<Reply> {
  resolve(reply: Reply): void;
  reject(error: Error): void;
  /** What was asked, for the error: the request's kind, or "start-up". */
  operation: string;
}

/**
 * One request at a time to an endpoint, each answered by its reply. An error reply, a crash or
 * an exit rejects the request in flight with the error `fail` makes of it, and every later one
 * with the same error: a channel that failed once is done.
 */
export class RequestChannel<Request extends { kind: string }, Reply> {
  private pending: Pending<Reply> | undefined;
  private failure: Error | undefined;
  private readonly first: Promise<Reply>;
  private holds = 0;

  constructor(
    private readonly endpoint: ChannelEndpoint<Request, Reply>,
    private readonly fail: (operation: string, reason: string) => Error,
  ) {
    this.first = new Promise<Reply>((resolve, reject) => {
      this.pending = { resolve, reject, operation: "start-up" };
    });
    // Nobody may await the start-up (a channel closed unused): keep its rejection from going unhandled.
    this.first.catch(() => {});
    endpoint.listen(
      (message) => {
        const pending = this.pending;
        this.pending = undefined;
        if (isErrorReply(message)) this.reject(pending, `the error "${message.message}"`);
        else pending?.resolve(message);
      },
      (reason) => this.reject(this.pending, reason),
    );
  }

  private reject(pending: Pending<Reply> | undefined, reason: string): void {
    this.pending = undefined;
    this.failure ??= this.fail(pending?.operation ?? "idle", reason);
    pending?.reject(this.failure);
  }

  /** The message the far end sends unasked once it is up. */
  started(): Promise<Reply> {
    return this.held(this.first);
  }

  /** Sends `request` at once (not after an await, so the far end starts on it while the caller goes on) and resolves with its reply. */
  request(request: Request): Promise<Reply> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.pending !== undefined) {
      return Promise.reject(new Error(`request "${request.kind}" sent while "${this.pending.operation}" awaits its reply: a channel takes one request at a time`));
    }
    const reply = new Promise<Reply>((resolve, reject) => {
      this.pending = { resolve, reject, operation: request.kind };
    });
    this.endpoint.post(request);
    return this.held(reply);
  }

  /** Stops the far end; the channel cannot be used afterwards. */
  close(): Promise<void> {
    return this.endpoint.close();
  }

  /** Lets the far end keep the process alive while `reply` is awaited. */
  private async held(reply: Promise<Reply>): Promise<Reply> {
    if (this.holds++ === 0) this.endpoint.hold?.(true);
    try {
      return await reply;
    } finally {
      if (--this.holds === 0) this.endpoint.hold?.(false);
    }
  }
}

function isErrorReply(message: unknown): message is ErrorReply {
  return typeof message === "object" && message !== null && (message as { kind?: unknown }).kind === "error";
}

import * as tf from "@tensorflow/tfjs-core";
import { CheckpointError, ConfigError } from "./errors.js";

/** Everything Adam needs to continue exactly where it stopped. */
export interface AdamState {
  /** Updates applied so far. */
  iterations: number;
  /** beta1^(iterations+1) as the float32 running product the update uses. */
  accBeta1: number;
  /** beta2^(iterations+1) as the float32 running product the update uses. */
  accBeta2: number;
  /** First and second moment per variable name, row-major float32. */
  moments: Record<string, { shape: number[]; m: Float32Array; v: Float32Array }>;
}

/**
 * Adam with the arithmetic of tf.train.adam, op for op, so a run matches it
 * bit for bit, but with state that restores exactly: tf.train.adam's
 * setWeights() recomputes the beta powers with pow(), which differs in the
 * last bits from the running product it uses while training, so a resumed
 * run would drift from an uninterrupted one. The step size comes with each
 * update, so a schedule can change it without touching the moments.
 */
export class Adam {
  private readonly accBeta1: tf.Variable;
  private readonly accBeta2: tf.Variable;
  private readonly firstMoment: Record<string, tf.Variable> = {};
  private readonly secondMoment: Record<string, tf.Variable> = {};
  private iterationCount = 0;

  constructor(
    private readonly variables: Readonly<Record<string, tf.Variable>>,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = tf.backend().epsilon(),
  ) {
    this.accBeta1 = tf.tidy(() => tf.scalar(beta1).variable(false));
    this.accBeta2 = tf.tidy(() => tf.scalar(beta2).variable(false));
    for (const [name, variable] of Object.entries(variables)) {
      this.firstMoment[name] = tf.tidy(() => tf.zerosLike(variable).variable(false));
      this.secondMoment[name] = tf.tidy(() => tf.zerosLike(variable).variable(false));
    }
  }

  get iterations(): number {
    return this.iterationCount;
  }

  /** One update of every variable from its gradient (same keys as the variables) with step size `learningRate`. */
  apply(gradients: Readonly<Record<string, tf.Tensor>>, learningRate: number): void {
    tf.tidy(() => {
      const oneMinusAccBeta1 = tf.sub(1, this.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, this.accBeta2);
      for (const [name, variable] of Object.entries(this.variables)) {
        const gradient = gradients[name];
        const m = this.firstMoment[name];
        const v = this.secondMoment[name];
        if (gradient === undefined || m === undefined || v === undefined) {
          throw new ConfigError("gradients", `a gradient for variable "${name}"`, "none", "lossAndGradients must return one gradient per model variable");
        }
        const newM = tf.add(tf.mul(m, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const newV = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        const correctedM = tf.div(newM, oneMinusAccBeta1);
        const correctedV = tf.div(newV, oneMinusAccBeta2);
        m.assign(newM);
        v.assign(newV);
        const update = tf.mul(tf.div(correctedM, tf.add(tf.sqrt(correctedV), this.epsilon)), -learningRate);
        variable.assign(tf.add(update, variable));
      }
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
    this.iterationCount += 1;
  }

  async state(): Promise<AdamState> {
    const moments: AdamState["moments"] = {};
    for (const name of Object.keys(this.variables)) {
      const m = this.firstMoment[name];
      const v = this.secondMoment[name];
      if (m === undefined || v === undefined) continue;
      moments[name] = { shape: [...m.shape], m: Float32Array.from(await m.data()), v: Float32Array.from(await v.data()) };
    }
    const [accBeta1] = await this.accBeta1.data();
    const [accBeta2] = await this.accBeta2.data();
    return { iterations: this.iterationCount, accBeta1: accBeta1 ?? Number.NaN, accBeta2: accBeta2 ?? Number.NaN, moments };
  }

  /** Puts back a state from state(); `source` names where it came from in errors. */
  restore(state: AdamState, source: string): void {
    for (const [name, variable] of Object.entries(this.variables)) {
      const saved = state.moments[name];
      const m = this.firstMoment[name];
      const v = this.secondMoment[name];
      if (saved === undefined || m === undefined || v === undefined) {
        throw new CheckpointError(source, `Adam moments for variable "${name}"`, "none");
      }
      if (saved.shape.join(",") !== variable.shape.join(",")) {
        throw new CheckpointError(source, `Adam moments of shape [${variable.shape}] for "${name}"`, `[${saved.shape}]`, "resume with the model saved in the same checkpoint");
      }
      tf.tidy(() => {
        m.assign(tf.tensor(saved.m, saved.shape));
        v.assign(tf.tensor(saved.v, saved.shape));
      });
    }
    tf.tidy(() => {
      this.accBeta1.assign(tf.scalar(state.accBeta1));
      this.accBeta2.assign(tf.scalar(state.accBeta2));
    });
    this.iterationCount = state.iterations;
  }

  dispose(): void {
    tf.dispose([this.accBeta1, this.accBeta2, ...Object.values(this.firstMoment), ...Object.values(this.secondMoment)]);
  }
}

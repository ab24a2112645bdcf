/** `strata.callbacks`. */
export { Callback, CallbackList } from './callback.ts';
export type { Logs, CallbackParams, TrainingModel } from './callback.ts';
export { History } from './history.ts';
export { ProgbarLogger } from './progbar.ts';
export type { ProgbarOptions } from './progbar.ts';
export { EarlyStopping } from './early-stopping.ts';
export type { EarlyStoppingOptions } from './early-stopping.ts';
export { ReduceLROnPlateau, LearningRateScheduler } from './schedulers.ts';
export type { ReduceLROnPlateauOptions } from './schedulers.ts';
export { TerminateOnNaN, CSVLogger, LambdaCallback } from './misc.ts';
export type { CSVLoggerOptions, LambdaCallbackOptions, TerminateOnNaNOptions } from './misc.ts';
export { ModelCheckpoint, BackupAndRestore, formatFilepath } from './checkpoint.ts';
export type { ModelCheckpointOptions, BackupAndRestoreOptions } from './checkpoint.ts';
export { TensorBoard } from './tensorboard.ts';
export type { TensorBoardOptions } from './tensorboard.ts';

/** Preprocessing layers: Normalization and the image layers. (Rescaling is exported with the core layers.) */
export { Normalization } from './normalization.ts';
export type { NormalizationOptions, NormalizationValue } from './normalization.ts';
export { Resizing, CenterCrop, RandomFlip, RandomCrop, RandomContrast, RandomBrightness, RandomTranslation, RandomRotation, RandomZoom } from './image.ts';
export type {
  Interpolation, FillMode, ImageLayerOptions, ResizingOptions, RandomImageOptions, RandomFlipOptions, FlipMode, FlipTransformation,
  CropTransformation, RandomValueRangeOptions, ContrastTransformation, BrightnessTransformation, AffineLayerOptions,
  RotationTransformation, TranslationTransformation, ZoomTransformation,
} from './image.ts';

/** `strata.serving`: a TF-Serving-compatible REST server for a model, and its JSON format. */
export { serve, type ModelServer, type ServeOptions } from './server.ts';
export { decodePredictRequest, encodePredictResponse, BadRequestError, type ServingSignature, type DecodedRequest, type RequestFormat } from './codec.ts';

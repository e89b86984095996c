/**
 * `@gla/core/reference`: the authors' solver, kept for comparison only. It optimises the
 * Lagrangian by SGD on q itself and does not converge to the minimiser within its step budget
 * (see the README); use `estimatePrior` from `@gla/core` for results.
 */
export { type EstimatePriorReferenceOptions, estimatePriorReference } from './prior-reference';

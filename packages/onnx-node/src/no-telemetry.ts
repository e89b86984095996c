/**
 * `import '@gla/onnx-node/no-telemetry'` — the one-line fix for programs that import
 * onnxruntime-node themselves: put it before that import and ONNX Runtime's telemetry is off for
 * the process (`ORT_DISABLE_TELEMETRY=1`, unless the environment already sets the variable).
 */
import { disableOrtTelemetry } from './telemetry';

disableOrtTelemetry();

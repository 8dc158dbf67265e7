/**
 * V8_STARTUP_TUNING (enabled by default; docs/decisions/0003-v8-startup-tuning.md): read here from the
 * environment, not from the loaded config, because it must act before the other modules evaluate. The
 * config schema declares it, so a wrong value still fails the start.
 */
export const v8StartupTuning = process.env.V8_STARTUP_TUNING !== 'disabled';

/**
 * @sparq/backend-fpga-sim (work in progress).
 * @packageDocumentation
 */
export {};

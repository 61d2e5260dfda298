/** The package entry point: the public API of the ProvisionedProductProperties construct library. */
export {
  AcceptLanguage,
  Owner,
  ProvisionedProductProperties,
  type ProvisionedProductPropertiesProps,
} from './provisioned-product-properties';
export { DriftCheck, type DriftCheckOptions } from './drift-check';
export type { SharedProviderProps } from './provider/shared-provider-props';

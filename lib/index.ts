export {
  AcceptLanguage,
  Owner,
  ProvisionedProductProperties,
  type ProvisionedProductPropertiesProps,
} from './provisioned-product-properties';
export type { SharedProviderProps } from './shared-provider-props';

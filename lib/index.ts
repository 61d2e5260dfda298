export {
  AcceptLanguage,
  Owner,
  ProvisionedProductProperties,
  type ProvisionedProductPropertiesProps,
} from './provisioned-product-properties';

import { buildSchema, type GraphQLDirective, type GraphQLSchema } from 'graphql';

/**
 * The slice of Shopify's GraphQL Admin API (2026-10) that Omnihub uses, in SDL, with Shopify's own
 * type, field, argument and enum names, so the hub's real connector queries validate here exactly as
 * they would against Shopify. Fields Shopify has and the hub does not use are left out on purpose: a
 * query that selects one fails validation ("Field … doesn't exist"), which is the honest answer for a
 * simulator (it would otherwise return invented data).
 *
 * Notes on the contract (2026-04 and later):
 * - `@idempotent(key:)` is a field directive; it is mandatory at run time on the inventory quantity
 *   mutations and `refundCreate` although the schema does not mark it so.
 * - `InventoryQuantityInput.changeFromQuantity` / `InventoryChangeInput.changeFromQuantity` are
 *   nullable in the schema but must be present (explicit `null` opts out of compare-and-set).
 * - `compareQuantity` / `ignoreCompareQuantity` were removed in 2026-04
 *   (https://shopify.dev/changelog/finalizing-compare-and-swap-redesign-for-inventory-set-quantities).
 *
 * `test/sandbox/shopify-schema.test.ts` checks that every type, field, argument, input field and enum
 * value here exists in Shopify's real schema (the 2025-04 SDL plus the sourced changes in
 * `test/support/shopify-schema.ts`) with the same type and default: a name Shopify does not have fails.
 */
export const ADMIN_SDL = /* GraphQL */ `
  directive @idempotent(key: String!) on FIELD

  scalar DateTime
  scalar Decimal
  scalar Money
  scalar URL
  scalar UnsignedInt64
  scalar HTML

  interface Node {
    id: ID!
  }

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  enum CurrencyCode {
    USD
    EUR
    GBP
    CAD
    AUD
  }

  enum CountPrecision {
    EXACT
    AT_LEAST
  }

  type Count {
    count: Int!
    precision: CountPrecision!
  }

  # The ISO 3166-1 codes the sandbox's shops and customers use (Shopify's enum has every country).
  enum CountryCode {
    US
    CA
    GB
    AU
    DE
    FR
  }

  type MoneyV2 {
    amount: Decimal!
    currencyCode: CurrencyCode!
  }

  type MoneyBag {
    shopMoney: MoneyV2!
    presentmentMoney: MoneyV2!
  }

  interface DisplayableError {
    field: [String!]
    message: String!
  }

  type UserError implements DisplayableError {
    field: [String!]
    message: String!
  }

  type Job {
    done: Boolean!
    id: ID!
  }

  type OrderCancelUserError implements DisplayableError {
    code: OrderCancelUserErrorCode
    field: [String!]
    message: String!
  }

  enum OrderCancelUserErrorCode {
    INVALID
    NOT_FOUND
    NO_REFUND_PERMISSION
  }

  type OrderCancelPayload {
    job: Job
    orderCancelUserErrors: [OrderCancelUserError!]!
  }

  type ApiVersion {
    handle: String!
    displayName: String!
    supported: Boolean!
  }

  type ShopPlan {
    displayName: String!
    partnerDevelopment: Boolean!
    shopifyPlus: Boolean!
  }

  type Shop implements Node {
    id: ID!
    name: String!
    myshopifyDomain: String!
    currencyCode: CurrencyCode!
    ianaTimezone: String!
    plan: ShopPlan!
  }

  # ---------------------------------------------------------------- locations

  type LocationAddress {
    address1: String
    address2: String
    city: String
    province: String
    provinceCode: String
    country: String
    countryCode: String
    zip: String
    phone: String
    formatted: [String!]!
  }

  type Location implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    name: String!
    isActive: Boolean!
    fulfillsOnlineOrders: Boolean!
    hasActiveInventory: Boolean!
    shipsInventory: Boolean!
    address: LocationAddress!
    createdAt: DateTime!
    updatedAt: DateTime!
    inventoryLevel(inventoryItemId: ID!): InventoryLevel
    inventoryLevels(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false): InventoryLevelConnection!
  }

  type LocationEdge {
    cursor: String!
    node: Location!
  }

  type LocationConnection {
    edges: [LocationEdge!]!
    nodes: [Location!]!
    pageInfo: PageInfo!
  }

  # ---------------------------------------------------------------- inventory

  type InventoryQuantity implements Node {
    id: ID!
    name: String!
    quantity: Int!
    updatedAt: DateTime
  }

  type InventoryLevel implements Node {
    id: ID!
    item: InventoryItem!
    location: Location!
    quantities(names: [String!]!): [InventoryQuantity!]!
    isActive: Boolean!
    canDeactivate: Boolean!
    deactivationAlert: String
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  type InventoryLevelEdge {
    cursor: String!
    node: InventoryLevel!
  }

  type InventoryLevelConnection {
    edges: [InventoryLevelEdge!]!
    nodes: [InventoryLevel!]!
    pageInfo: PageInfo!
  }

  type InventoryItem implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    sku: String
    tracked: Boolean!
    requiresShipping: Boolean!
    unitCost: MoneyV2
    createdAt: DateTime!
    updatedAt: DateTime!
    variant: ProductVariant! @deprecated(reason: "Use variants instead.")
    variants(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): ProductVariantConnection!
    locationsCount: Count
    inventoryLevel(locationId: ID!, includeInactive: Boolean = false): InventoryLevel
    inventoryLevels(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false, includeInactive: Boolean = false): InventoryLevelConnection!
  }

  type InventoryItemEdge {
    cursor: String!
    node: InventoryItem!
  }

  type InventoryItemConnection {
    edges: [InventoryItemEdge!]!
    nodes: [InventoryItem!]!
    pageInfo: PageInfo!
  }

  type InventoryChange {
    name: String!
    delta: Int!
    quantityAfterChange: Int
    item: InventoryItem
    location: Location
    ledgerDocumentUri: String
  }

  type App implements Node {
    id: ID!
    title: String!
    handle: String
  }

  type InventoryAdjustmentGroup implements Node {
    id: ID!
    createdAt: DateTime!
    reason: String!
    referenceDocumentUri: String
    app: App
    changes(inventoryItemIds: [ID!], locationIds: [ID!], quantityNames: [String!]): [InventoryChange!]!
  }

  input InventoryQuantityInput {
    inventoryItemId: ID!
    locationId: ID!
    quantity: Int!
    changeFromQuantity: Int
  }

  input InventorySetQuantitiesInput {
    name: String!
    reason: String!
    referenceDocumentUri: String
    quantities: [InventoryQuantityInput!]!
  }

  input InventoryChangeInput {
    delta: Int!
    inventoryItemId: ID!
    locationId: ID!
    ledgerDocumentUri: String
    changeFromQuantity: Int
  }

  input InventoryAdjustQuantitiesInput {
    name: String!
    reason: String!
    referenceDocumentUri: String
    changes: [InventoryChangeInput!]!
  }

  enum InventorySetQuantitiesUserErrorCode {
    INVALID_INVENTORY_ITEM
    INVALID_LOCATION
    INVALID_QUANTITY_NEGATIVE
    INVALID_REASON
    INVALID_REFERENCE_DOCUMENT
    ITEM_NOT_STOCKED_AT_LOCATION
    INVALID_QUANTITY_TOO_HIGH
    INVALID_QUANTITY_TOO_LOW
    CHANGE_FROM_QUANTITY_STALE
    INVALID_NAME
    NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
    NON_MUTABLE_INVENTORY_ITEM
    IDEMPOTENCY_CONCURRENT_REQUEST
    IDEMPOTENCY_KEY_PARAMETER_MISMATCH
  }

  type InventorySetQuantitiesUserError implements DisplayableError {
    code: InventorySetQuantitiesUserErrorCode
    field: [String!]
    message: String!
  }

  type InventorySetQuantitiesPayload {
    inventoryAdjustmentGroup: InventoryAdjustmentGroup
    userErrors: [InventorySetQuantitiesUserError!]!
  }

  enum InventoryAdjustQuantitiesUserErrorCode {
    ADJUST_QUANTITIES_FAILED
    CHANGE_FROM_QUANTITY_STALE
    IDEMPOTENCY_CONCURRENT_REQUEST
    IDEMPOTENCY_KEY_PARAMETER_MISMATCH
    INTERNAL_LEDGER_DOCUMENT
    INVALID_AVAILABLE_DOCUMENT
    INVALID_INVENTORY_ITEM
    INVALID_LEDGER_DOCUMENT
    INVALID_LOCATION
    INVALID_QUANTITY_DOCUMENT
    INVALID_QUANTITY_NAME
    INVALID_QUANTITY_TOO_HIGH
    INVALID_QUANTITY_TOO_LOW
    INVALID_REASON
    INVALID_REFERENCE_DOCUMENT
    ITEM_NOT_STOCKED_AT_LOCATION
    MAX_ONE_LEDGER_DOCUMENT
    NON_MUTABLE_INVENTORY_ITEM
    SERVICE_UNAVAILABLE
  }

  type InventoryAdjustQuantitiesUserError implements DisplayableError {
    code: InventoryAdjustQuantitiesUserErrorCode
    field: [String!]
    message: String!
  }

  type InventoryAdjustQuantitiesPayload {
    inventoryAdjustmentGroup: InventoryAdjustmentGroup
    userErrors: [InventoryAdjustQuantitiesUserError!]!
  }

  # ---------------------------------------------------------------- products

  enum ProductStatus {
    ACTIVE
    ARCHIVED
    DRAFT
    UNLISTED
  }

  enum ProductVariantInventoryPolicy {
    DENY
    CONTINUE
  }

  type SelectedOption {
    name: String!
    value: String!
  }

  type ProductOptionValue {
    id: ID!
    name: String!
  }

  type ProductOption implements Node {
    id: ID!
    name: String!
    position: Int!
    values: [String!]!
    optionValues: [ProductOptionValue!]!
  }

  type Product implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    title: String!
    handle: String!
    status: ProductStatus!
    vendor: String!
    productType: String!
    tags: [String!]!
    descriptionHtml: HTML!
    createdAt: DateTime!
    updatedAt: DateTime!
    totalInventory: Int!
    tracksInventory: Boolean!
    options(first: Int): [ProductOption!]!
    variants(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): ProductVariantConnection!
    variantsCount: Count
  }

  type ProductEdge {
    cursor: String!
    node: Product!
  }

  type ProductConnection {
    edges: [ProductEdge!]!
    nodes: [Product!]!
    pageInfo: PageInfo!
  }

  type ProductVariant implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    title: String!
    displayName: String!
    sku: String
    barcode: String
    price: Money!
    compareAtPrice: Money
    position: Int!
    taxable: Boolean!
    availableForSale: Boolean!
    inventoryPolicy: ProductVariantInventoryPolicy!
    inventoryQuantity: Int
    inventoryItem: InventoryItem!
    product: Product!
    selectedOptions: [SelectedOption!]!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  type ProductVariantEdge {
    cursor: String!
    node: ProductVariant!
  }

  type ProductVariantConnection {
    edges: [ProductVariantEdge!]!
    nodes: [ProductVariant!]!
    pageInfo: PageInfo!
  }

  input ProductSetIdentifiers {
    id: ID
    handle: String
  }

  input ProductIdentifierInput {
    id: ID
    handle: String
  }

  input OptionValueSetInput {
    id: ID
    name: String
  }

  input OptionSetInput {
    id: ID
    name: String
    position: Int
    values: [OptionValueSetInput!]
  }

  input VariantOptionValueInput {
    id: ID
    name: String
    optionId: ID
    optionName: String
  }

  input InventoryItemInput {
    sku: String
    tracked: Boolean
    requiresShipping: Boolean
    cost: Decimal
  }

  input ProductSetInventoryInput {
    locationId: ID!
    name: String!
    quantity: Int!
  }

  input ProductVariantSetInput {
    id: ID
    optionValues: [VariantOptionValueInput!]!
    price: Money
    compareAtPrice: Money
    barcode: String
    taxable: Boolean
    position: Int
    inventoryPolicy: ProductVariantInventoryPolicy
    inventoryItem: InventoryItemInput
    inventoryQuantities: [ProductSetInventoryInput!]
  }

  input ProductSetInput {
    title: String
    handle: String
    descriptionHtml: String
    vendor: String
    productType: String
    status: ProductStatus
    tags: [String!]
    productOptions: [OptionSetInput!]
    variants: [ProductVariantSetInput!]
  }

  enum ProductSetUserErrorCode {
    INVALID_PRODUCT
    INVALID_VARIANT
    INVALID_INPUT
    PRODUCT_DOES_NOT_EXIST
    PRODUCT_VARIANT_DOES_NOT_EXIST
    DUPLICATED_OPTION_VALUE
    DUPLICATED_VALUE
    MISSING_FIELD_REQUIRED
    OPTIONS_OVER_LIMIT
    VARIANTS_OVER_LIMIT
  }

  type ProductSetUserError implements DisplayableError {
    code: ProductSetUserErrorCode
    field: [String!]
    message: String!
  }

  enum ProductOperationStatus {
    ACTIVE
    COMPLETE
    CREATED
  }

  type ProductSetOperation implements Node {
    id: ID!
    status: ProductOperationStatus!
    product: Product
    userErrors: [ProductSetUserError!]!
  }

  type ProductSetPayload {
    product: Product
    productSetOperation: ProductSetOperation
    userErrors: [ProductSetUserError!]!
  }

  input ProductVariantsBulkInput {
    id: ID
    price: Money
    compareAtPrice: Money
    barcode: String
    taxable: Boolean
    inventoryPolicy: ProductVariantInventoryPolicy
  }

  enum ProductVariantsBulkUpdateUserErrorCode {
    INVALID_INPUT
    NEGATIVE_PRICE_VALUE
    PRODUCT_DOES_NOT_EXIST
    PRODUCT_VARIANT_DOES_NOT_EXIST
    PRODUCT_VARIANT_ID_MISSING
    MUST_BE_FOR_THIS_PRODUCT
  }

  type ProductVariantsBulkUpdateUserError implements DisplayableError {
    code: ProductVariantsBulkUpdateUserErrorCode
    field: [String!]
    message: String!
  }

  type ProductVariantsBulkUpdatePayload {
    product: Product
    productVariants: [ProductVariant!]
    userErrors: [ProductVariantsBulkUpdateUserError!]!
  }

  # ---------------------------------------------------------------- orders

  type MailingAddress implements Node {
    id: ID!
    name: String
    firstName: String
    lastName: String
    address1: String
    address2: String
    city: String
    province: String
    provinceCode: String
    country: String
    countryCodeV2: CountryCode
    zip: String
    phone: String
  }

  type Customer implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    firstName: String
    lastName: String
    displayName: String!
    email: String
  }

  type TaxLine {
    title: String!
    rate: Float
    ratePercentage: Float
    priceSet: MoneyBag!
  }

  type LineItem implements Node {
    id: ID!
    name: String!
    title: String!
    variantTitle: String
    sku: String
    vendor: String
    quantity: Int!
    currentQuantity: Int!
    unfulfilledQuantity: Int!
    refundableQuantity: Int!
    requiresShipping: Boolean!
    taxable: Boolean!
    isGiftCard: Boolean!
    variant: ProductVariant
    product: Product
    discountAllocations: [DiscountAllocation!]!
    originalUnitPriceSet: MoneyBag!
    discountedUnitPriceSet: MoneyBag!
    originalTotalSet: MoneyBag!
    discountedTotalSet: MoneyBag!
    totalDiscountSet: MoneyBag!
    taxLines(first: Int): [TaxLine!]!
  }

  type LineItemEdge {
    cursor: String!
    node: LineItem!
  }

  type LineItemConnection {
    edges: [LineItemEdge!]!
    nodes: [LineItem!]!
    pageInfo: PageInfo!
  }

  type ShippingLine {
    id: ID
    title: String!
    code: String
    source: String
    deliveryCategory: String
    originalPriceSet: MoneyBag!
    discountedPriceSet: MoneyBag!
    discountAllocations: [DiscountAllocation!]!
    taxLines: [TaxLine!]!
  }

  type DiscountAllocation {
    allocatedAmountSet: MoneyBag!
  }

  type ShippingLineEdge {
    cursor: String!
    node: ShippingLine!
  }

  type ShippingLineConnection {
    edges: [ShippingLineEdge!]!
    nodes: [ShippingLine!]!
    pageInfo: PageInfo!
  }

  enum OrderCancelReason {
    CUSTOMER
    DECLINED
    FRAUD
    INVENTORY
    STAFF
    OTHER
  }

  enum OrderDisplayFinancialStatus {
    AUTHORIZED
    EXPIRED
    PAID
    PARTIALLY_PAID
    PARTIALLY_REFUNDED
    PENDING
    REFUNDED
    VOIDED
  }

  enum OrderDisplayFulfillmentStatus {
    FULFILLED
    IN_PROGRESS
    ON_HOLD
    OPEN
    PARTIALLY_FULFILLED
    PENDING_FULFILLMENT
    RESTOCKED
    SCHEDULED
    UNFULFILLED
    REQUEST_DECLINED
  }

  enum OrderSortKeys {
    CREATED_AT
    ID
    ORDER_NUMBER
    PROCESSED_AT
    UPDATED_AT
    TOTAL_PRICE
  }

  type Order implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    name: String!
    email: String
    phone: String
    billingAddress: MailingAddress
    note: String
    tags: [String!]!
    test: Boolean!
    confirmed: Boolean!
    closed: Boolean!
    closedAt: DateTime
    cancelledAt: DateTime
    cancelReason: OrderCancelReason
    createdAt: DateTime!
    updatedAt: DateTime!
    processedAt: DateTime!
    currencyCode: CurrencyCode!
    presentmentCurrencyCode: CurrencyCode!
    sourceName: String
    paymentGatewayNames: [String!]!
    taxesIncluded: Boolean!
    discountCodes: [String!]!
    displayFinancialStatus: OrderDisplayFinancialStatus
    displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
    customer: Customer
    shippingAddress: MailingAddress
    retailLocation: Location
    lineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): LineItemConnection!
    shippingLines(first: Int, after: String, last: Int, before: String, includeRemovals: Boolean = false): ShippingLineConnection!
    fulfillmentOrders(first: Int, after: String, last: Int, before: String, displayable: Boolean = false, query: String, reverse: Boolean = false): FulfillmentOrderConnection!
    fulfillments(first: Int): [Fulfillment!]!
    transactions(capturable: Boolean, first: Int, manuallyResolvable: Boolean): [OrderTransaction!]!
    refunds(first: Int): [Refund!]!
    returns(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false): ReturnConnection!
    taxLines: [TaxLine!]!
    subtotalPriceSet: MoneyBag
    totalDiscountsSet: MoneyBag
    totalShippingPriceSet: MoneyBag!
    totalTaxSet: MoneyBag
    totalPriceSet: MoneyBag!
    totalRefundedSet: MoneyBag!
    currentSubtotalPriceSet: MoneyBag!
    currentTotalTaxSet: MoneyBag!
    currentTotalPriceSet: MoneyBag!
    totalOutstandingSet: MoneyBag!
  }

  type OrderEdge {
    cursor: String!
    node: Order!
  }

  type OrderConnection {
    edges: [OrderEdge!]!
    nodes: [Order!]!
    pageInfo: PageInfo!
  }

  # ---------------------------------------------------------------- fulfillment

  enum FulfillmentOrderStatus {
    CANCELLED
    CLOSED
    INCOMPLETE
    IN_PROGRESS
    ON_HOLD
    OPEN
    SCHEDULED
  }

  enum FulfillmentOrderRequestStatus {
    ACCEPTED
    CANCELLATION_ACCEPTED
    CANCELLATION_REJECTED
    CANCELLATION_REQUESTED
    CLOSED
    REJECTED
    SUBMITTED
    UNSUBMITTED
  }

  enum DeliveryMethodType {
    LOCAL
    NONE
    PICKUP_POINT
    PICK_UP
    RETAIL
    SHIPPING
  }

  type DeliveryMethod implements Node {
    id: ID!
    methodType: DeliveryMethodType!
    presentedName: String
  }

  type FulfillmentOrderAssignedLocation {
    name: String!
    address1: String
    city: String
    province: String
    countryCode: CountryCode!
    zip: String
    location: Location
  }

  enum FulfillmentOrderAction {
    CANCEL_FULFILLMENT_ORDER
    CREATE_FULFILLMENT
    EXTERNAL
    HOLD
    MARK_AS_OPEN
    MERGE
    MOVE
    RELEASE_HOLD
    REQUEST_CANCELLATION
    REQUEST_FULFILLMENT
    SPLIT
  }

  type FulfillmentOrderSupportedAction {
    action: FulfillmentOrderAction!
  }

  type FulfillmentOrderLineItem implements Node {
    id: ID!
    totalQuantity: Int!
    remainingQuantity: Int!
    sku: String
    productTitle: String!
    variantTitle: String
    inventoryItemId: ID
    lineItem: LineItem!
    variant: ProductVariant
  }

  type FulfillmentOrderLineItemEdge {
    cursor: String!
    node: FulfillmentOrderLineItem!
  }

  type FulfillmentOrderLineItemConnection {
    edges: [FulfillmentOrderLineItemEdge!]!
    nodes: [FulfillmentOrderLineItem!]!
    pageInfo: PageInfo!
  }

  type FulfillmentOrder implements Node {
    id: ID!
    status: FulfillmentOrderStatus!
    requestStatus: FulfillmentOrderRequestStatus!
    createdAt: DateTime!
    updatedAt: DateTime!
    fulfillAt: DateTime
    orderId: ID!
    orderName: String!
    order: Order!
    assignedLocation: FulfillmentOrderAssignedLocation!
    deliveryMethod: DeliveryMethod
    supportedActions: [FulfillmentOrderSupportedAction!]!
    lineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): FulfillmentOrderLineItemConnection!
  }

  type FulfillmentOrderEdge {
    cursor: String!
    node: FulfillmentOrder!
  }

  type FulfillmentOrderConnection {
    edges: [FulfillmentOrderEdge!]!
    nodes: [FulfillmentOrder!]!
    pageInfo: PageInfo!
  }

  enum FulfillmentStatus {
    CANCELLED
    ERROR
    FAILURE
    SUCCESS
    OPEN
    PENDING
  }

  type FulfillmentTrackingInfo {
    company: String
    number: String
    url: URL
  }

  type FulfillmentLineItem implements Node {
    id: ID!
    quantity: Int
    lineItem: LineItem!
  }

  type FulfillmentLineItemEdge {
    cursor: String!
    node: FulfillmentLineItem!
  }

  type FulfillmentLineItemConnection {
    edges: [FulfillmentLineItemEdge!]!
    nodes: [FulfillmentLineItem!]!
    pageInfo: PageInfo!
  }

  type Fulfillment implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    name: String!
    status: FulfillmentStatus!
    createdAt: DateTime!
    updatedAt: DateTime!
    location: Location
    order: Order!
    trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
    fulfillmentLineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): FulfillmentLineItemConnection!
  }

  input PreparedFulfillmentOrderLineItemsInput {
    fulfillmentOrderId: ID!
  }

  input FulfillmentOrderLineItemsPreparedForPickupInput {
    lineItemsByFulfillmentOrder: [PreparedFulfillmentOrderLineItemsInput!]!
  }

  enum FulfillmentOrderLineItemsPreparedForPickupUserErrorCode {
    FULFILLMENT_ORDER_INVALID
    NO_LINE_ITEMS_TO_PREPARE_FOR_FULFILLMENT_ORDER
    UNABLE_TO_PREPARE_QUANTITY
  }

  type FulfillmentOrderLineItemsPreparedForPickupUserError implements DisplayableError {
    code: FulfillmentOrderLineItemsPreparedForPickupUserErrorCode
    field: [String!]
    message: String!
  }

  type FulfillmentOrderLineItemsPreparedForPickupPayload {
    userErrors: [FulfillmentOrderLineItemsPreparedForPickupUserError!]!
  }

  input FulfillmentOrderLineItemInput {
    id: ID!
    quantity: Int!
  }

  input FulfillmentOrderLineItemsInput {
    fulfillmentOrderId: ID!
    fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
  }

  input FulfillmentTrackingInput {
    company: String
    number: String
    url: URL
  }

  input FulfillmentInput {
    lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]!
    notifyCustomer: Boolean = false
    trackingInfo: FulfillmentTrackingInput
  }

  type FulfillmentCreatePayload {
    fulfillment: Fulfillment
    userErrors: [UserError!]!
  }

  # ---------------------------------------------------------------- refunds

  enum RefundLineItemRestockType {
    CANCEL
    LEGACY_RESTOCK
    NO_RESTOCK
    RETURN
  }

  type RefundLineItem {
    id: ID
    lineItem: LineItem!
    quantity: Int!
    restockType: RefundLineItemRestockType!
    restocked: Boolean!
    location: Location
    priceSet: MoneyBag!
    subtotalSet: MoneyBag!
    totalTaxSet: MoneyBag!
  }

  type RefundLineItemEdge {
    cursor: String!
    node: RefundLineItem!
  }

  type RefundLineItemConnection {
    edges: [RefundLineItemEdge!]!
    nodes: [RefundLineItem!]!
    pageInfo: PageInfo!
  }

  enum OrderTransactionKind {
    AUTHORIZATION
    CAPTURE
    CHANGE
    EMV_AUTHORIZATION
    REFUND
    SALE
    SUGGESTED_REFUND
    VOID
  }

  enum OrderTransactionStatus {
    AWAITING_RESPONSE
    ERROR
    FAILURE
    PENDING
    SUCCESS
    UNKNOWN
  }

  type OrderTransaction implements Node {
    id: ID!
    kind: OrderTransactionKind!
    status: OrderTransactionStatus!
    gateway: String
    amountSet: MoneyBag!
    createdAt: DateTime!
    processedAt: DateTime
  }

  type OrderTransactionEdge {
    cursor: String!
    node: OrderTransaction!
  }

  type OrderTransactionConnection {
    edges: [OrderTransactionEdge!]!
    nodes: [OrderTransaction!]!
    pageInfo: PageInfo!
  }

  type Refund implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    createdAt: DateTime
    updatedAt: DateTime!
    note: String
    order: Order!
    return: Return
    totalRefundedSet: MoneyBag!
    refundLineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): RefundLineItemConnection!
    transactions(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): OrderTransactionConnection!
  }

  input RefundLineItemInput {
    lineItemId: ID!
    quantity: Int!
    restockType: RefundLineItemRestockType
    locationId: ID
  }

  input ShippingRefundInput {
    amount: Money
    fullRefund: Boolean
  }

  input OrderTransactionInput {
    amount: Money!
    gateway: String!
    kind: OrderTransactionKind!
    orderId: ID!
    parentId: ID
  }

  input RefundInput {
    orderId: ID!
    note: String
    notify: Boolean
    currency: CurrencyCode
    allowOverRefunding: Boolean = false
    refundLineItems: [RefundLineItemInput!]
    shipping: ShippingRefundInput
    transactions: [OrderTransactionInput!]
  }

  # refundCreate answers plain UserErrors (no code), unlike the inventory mutations.
  type RefundCreatePayload {
    order: Order
    refund: Refund
    userErrors: [UserError!]!
  }

  # ---------------------------------------------------------------- returns

  enum ReturnStatus {
    CANCELED
    CLOSED
    DECLINED
    OPEN
    REQUESTED
  }

  interface ReturnLineItemType {
    id: ID!
    quantity: Int!
    processedQuantity: Int!
    unprocessedQuantity: Int!
    returnReasonNote: String!
  }

  type ReturnLineItem implements Node & ReturnLineItemType {
    id: ID!
    quantity: Int!
    processedQuantity: Int!
    unprocessedQuantity: Int!
    refundableQuantity: Int!
    refundedQuantity: Int!
    returnReasonNote: String!
    fulfillmentLineItem: FulfillmentLineItem!
  }

  type ReturnLineItemTypeEdge {
    cursor: String!
    node: ReturnLineItemType!
  }

  type ReturnLineItemTypeConnection {
    edges: [ReturnLineItemTypeEdge!]!
    nodes: [ReturnLineItemType!]!
    pageInfo: PageInfo!
  }

  enum ReverseFulfillmentOrderStatus {
    CANCELED
    CLOSED
    OPEN
  }

  enum ReverseFulfillmentOrderDispositionType {
    MISSING
    NOT_RESTOCKED
    PROCESSING_REQUIRED
    RESTOCKED
  }

  type ReverseFulfillmentOrderDisposition implements Node {
    id: ID!
    quantity: Int!
    type: ReverseFulfillmentOrderDispositionType!
    location: Location
  }

  type ReverseFulfillmentOrderLineItem implements Node {
    id: ID!
    totalQuantity: Int!
    fulfillmentLineItem: FulfillmentLineItem
    dispositions: [ReverseFulfillmentOrderDisposition!]!
  }

  type ReverseFulfillmentOrderLineItemEdge {
    cursor: String!
    node: ReverseFulfillmentOrderLineItem!
  }

  type ReverseFulfillmentOrderLineItemConnection {
    edges: [ReverseFulfillmentOrderLineItemEdge!]!
    nodes: [ReverseFulfillmentOrderLineItem!]!
    pageInfo: PageInfo!
  }

  type ReverseFulfillmentOrder implements Node {
    id: ID!
    status: ReverseFulfillmentOrderStatus!
    order: Order
    lineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): ReverseFulfillmentOrderLineItemConnection!
  }

  type ReverseFulfillmentOrderEdge {
    cursor: String!
    node: ReverseFulfillmentOrder!
  }

  type ReverseFulfillmentOrderConnection {
    edges: [ReverseFulfillmentOrderEdge!]!
    nodes: [ReverseFulfillmentOrder!]!
    pageInfo: PageInfo!
  }

  type RefundEdge {
    cursor: String!
    node: Refund!
  }

  type RefundConnection {
    edges: [RefundEdge!]!
    nodes: [Refund!]!
    pageInfo: PageInfo!
  }

  type Return implements Node {
    id: ID!
    name: String!
    status: ReturnStatus!
    createdAt: DateTime!
    closedAt: DateTime
    totalQuantity: Int!
    order: Order!
    returnLineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): ReturnLineItemTypeConnection!
    reverseFulfillmentOrders(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): ReverseFulfillmentOrderConnection!
    refunds(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): RefundConnection!
  }

  type ReturnEdge {
    cursor: String!
    node: Return!
  }

  type ReturnConnection {
    edges: [ReturnEdge!]!
    nodes: [Return!]!
    pageInfo: PageInfo!
  }

  input ReturnLineItemInput {
    fulfillmentLineItemId: ID!
    quantity: Int!
    returnReasonNote: String = ""
    returnReasonDefinitionId: ID
  }

  input ReturnInput {
    orderId: ID!
    returnLineItems: [ReturnLineItemInput!]!
    requestedAt: DateTime
  }

  enum ReturnErrorCode {
    ALREADY_EXISTS
    BLANK
    CREATION_FAILED
    EQUAL_TO
    FEATURE_NOT_ENABLED
    GREATER_THAN
    GREATER_THAN_OR_EQUAL_TO
    INCLUSION
    INTERNAL_ERROR
    INVALID
    INVALID_STATE
    LESS_THAN
    LESS_THAN_OR_EQUAL_TO
    NOT_A_NUMBER
    NOT_EDITABLE
    NOT_FOUND
    PRESENT
    TAKEN
    TOO_BIG
    TOO_LONG
    TOO_MANY_ARGUMENTS
    TOO_SHORT
    WRONG_LENGTH
  }

  type ReturnUserError implements DisplayableError {
    code: ReturnErrorCode
    field: [String!]
    message: String!
  }

  type ReturnCancelPayload {
    return: Return
    userErrors: [ReturnUserError!]!
  }

  type ReturnCreatePayload {
    return: Return
    userErrors: [ReturnUserError!]!
  }

  input ReverseFulfillmentOrderDisposeInput {
    reverseFulfillmentOrderLineItemId: ID!
    quantity: Int!
    locationId: ID
    dispositionType: ReverseFulfillmentOrderDispositionType!
  }

  input ReturnProcessReturnLineItemInput {
    id: ID!
    quantity: Int!
    dispositions: [ReverseFulfillmentOrderDisposeInput!]
  }

  input RefundShippingInput {
    shippingRefundAmount: MoneyInput
    fullRefund: Boolean = false
  }

  input MoneyInput {
    amount: Decimal!
    currencyCode: CurrencyCode!
  }

  input ReturnRefundOrderTransactionInput {
    parentId: ID!
    transactionAmount: MoneyInput!
  }

  input ReturnProcessRefundInput {
    allowOverRefunding: Boolean = false
    orderTransactions: [ReturnRefundOrderTransactionInput!]!
  }

  input ReturnProcessFinancialTransferInput {
    issueRefund: ReturnProcessRefundInput
  }

  input ReturnProcessInput {
    returnId: ID!
    returnLineItems: [ReturnProcessReturnLineItemInput!] = []
    refundShipping: RefundShippingInput
    financialTransfer: ReturnProcessFinancialTransferInput
    notifyCustomer: Boolean = false
    note: String
  }

  type ReturnProcessPayload {
    return: Return
    userErrors: [ReturnUserError!]!
  }

  # ---------------------------------------------------------------- webhooks

  enum WebhookSubscriptionTopic {
    ORDERS_CREATE
    ORDERS_UPDATED
    ORDERS_CANCELLED
    ORDERS_PAID
    ORDERS_EDITED
    REFUNDS_CREATE
    RETURNS_REQUEST
    RETURNS_PROCESS
    INVENTORY_LEVELS_UPDATE
    INVENTORY_ITEMS_UPDATE
    PRODUCTS_CREATE
    PRODUCTS_UPDATE
    FULFILLMENTS_CREATE
    FULFILLMENT_ORDERS_LINE_ITEMS_PREPARED_FOR_PICKUP
  }

  enum WebhookSubscriptionFormat {
    JSON
    XML
  }

  type WebhookSubscription implements Node {
    id: ID!
    topic: WebhookSubscriptionTopic!
    uri: String!
    callbackUrl: URL! @deprecated(reason: "Use uri instead.")
    format: WebhookSubscriptionFormat!
    includeFields: [String!]!
    filter: String
    apiVersion: ApiVersion!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  type WebhookSubscriptionEdge {
    cursor: String!
    node: WebhookSubscription!
  }

  type WebhookSubscriptionConnection {
    edges: [WebhookSubscriptionEdge!]!
    nodes: [WebhookSubscription!]!
    pageInfo: PageInfo!
  }

  input WebhookSubscriptionInput {
    uri: String
    callbackUrl: URL
    format: WebhookSubscriptionFormat
    includeFields: [String!]
    filter: String
  }

  type WebhookSubscriptionCreatePayload {
    webhookSubscription: WebhookSubscription
    userErrors: [UserError!]!
  }

  type WebhookSubscriptionUpdatePayload {
    webhookSubscription: WebhookSubscription
    userErrors: [UserError!]!
  }

  type WebhookSubscriptionDeletePayload {
    deletedWebhookSubscriptionId: ID
    userErrors: [UserError!]!
  }

  # ---------------------------------------------------------------- roots

  # Shopify Payments (finance): payouts and their balance transactions (sandbox/shopify/payments.ts).
  scalar BigInt

  enum ShopifyPaymentsPayoutStatus {
    CANCELED
    FAILED
    PAID
    SCHEDULED
  }

  enum ShopifyPaymentsBalanceTransactionPayoutStatus {
    CANCELED
    FAILED
    PAID
    PENDING
    SCHEDULED
  }

  enum ShopifyPaymentsPayoutTransactionType {
    DEPOSIT
    WITHDRAWAL
  }

  enum ShopifyPaymentsTransactionType {
    ADJUSTMENT
    CHARGE
    REFUND
  }

  enum PayoutSortKeys {
    ID
    ISSUED_AT
  }

  enum BalanceTransactionSortKeys {
    ID
    PROCESSED_AT
  }

  type ShopifyPaymentsPayoutSummary {
    adjustmentsFee: MoneyV2!
    adjustmentsGross: MoneyV2!
    chargesFee: MoneyV2!
    chargesGross: MoneyV2!
    refundsFee: MoneyV2!
    refundsFeeGross: MoneyV2!
  }

  type ShopifyPaymentsPayout implements Node {
    id: ID!
    issuedAt: DateTime!
    legacyResourceId: UnsignedInt64!
    net: MoneyV2!
    status: ShopifyPaymentsPayoutStatus!
    summary: ShopifyPaymentsPayoutSummary!
    transactionType: ShopifyPaymentsPayoutTransactionType!
  }

  type ShopifyPaymentsPayoutEdge {
    cursor: String!
    node: ShopifyPaymentsPayout!
  }

  type ShopifyPaymentsPayoutConnection {
    edges: [ShopifyPaymentsPayoutEdge!]!
    nodes: [ShopifyPaymentsPayout!]!
    pageInfo: PageInfo!
  }

  type ShopifyPaymentsAssociatedOrder {
    id: ID!
    name: String!
  }

  type ShopifyPaymentsBalanceTransactionAssociatedPayout {
    id: ID
    status: ShopifyPaymentsBalanceTransactionPayoutStatus
  }

  type ShopifyPaymentsBalanceTransaction implements Node {
    amount: MoneyV2!
    associatedOrder: ShopifyPaymentsAssociatedOrder
    associatedPayout: ShopifyPaymentsBalanceTransactionAssociatedPayout!
    fee: MoneyV2!
    id: ID!
    net: MoneyV2!
    sourceOrderTransactionId: BigInt
    test: Boolean!
    transactionDate: DateTime!
    type: ShopifyPaymentsTransactionType!
  }

  type ShopifyPaymentsBalanceTransactionEdge {
    cursor: String!
    node: ShopifyPaymentsBalanceTransaction!
  }

  type ShopifyPaymentsBalanceTransactionConnection {
    edges: [ShopifyPaymentsBalanceTransactionEdge!]!
    nodes: [ShopifyPaymentsBalanceTransaction!]!
    pageInfo: PageInfo!
  }

  type ShopifyPaymentsAccount implements Node {
    balanceTransactions(after: String, before: String, first: Int, hideTransfers: Boolean = false, last: Int, query: String, reverse: Boolean = false, sortKey: BalanceTransactionSortKeys = PROCESSED_AT): ShopifyPaymentsBalanceTransactionConnection!
    defaultCurrency: CurrencyCode!
    id: ID!
    payouts(after: String, before: String, first: Int, last: Int, query: String, reverse: Boolean = false, sortKey: PayoutSortKeys = ISSUED_AT, transactionType: ShopifyPaymentsPayoutTransactionType): ShopifyPaymentsPayoutConnection!
  }

  type QueryRoot {
    shop: Shop!
    node(id: ID!): Node
    nodes(ids: [ID!]!): [Node]!
    location(id: ID): Location
    locations(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false, includeInactive: Boolean = false, includeLegacy: Boolean = false): LocationConnection!
    inventoryItem(id: ID!): InventoryItem
    inventoryItems(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false): InventoryItemConnection!
    inventoryLevel(id: ID!): InventoryLevel
    product(id: ID!): Product
    productByIdentifier(identifier: ProductIdentifierInput!): Product
    products(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false): ProductConnection!
    productVariant(id: ID!): ProductVariant
    productVariants(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false): ProductVariantConnection!
    order(id: ID!): Order
    orders(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false, sortKey: OrderSortKeys = PROCESSED_AT): OrderConnection!
    fulfillmentOrder(id: ID!): FulfillmentOrder
    fulfillmentOrders(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false, includeClosed: Boolean = false): FulfillmentOrderConnection!
    refund(id: ID!): Refund
    return(id: ID!): Return
    shopifyPaymentsAccount: ShopifyPaymentsAccount
    webhookSubscription(id: ID!): WebhookSubscription
    webhookSubscriptions(first: Int, after: String, last: Int, before: String, topics: [WebhookSubscriptionTopic!], uri: String, reverse: Boolean = false): WebhookSubscriptionConnection!
  }

  type Mutation {
    inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
    inventoryAdjustQuantities(input: InventoryAdjustQuantitiesInput!): InventoryAdjustQuantitiesPayload
    fulfillmentOrderLineItemsPreparedForPickup(input: FulfillmentOrderLineItemsPreparedForPickupInput!): FulfillmentOrderLineItemsPreparedForPickupPayload
    fulfillmentCreate(fulfillment: FulfillmentInput!, message: String): FulfillmentCreatePayload
    orderCancel(notifyCustomer: Boolean = false, orderId: ID!, reason: OrderCancelReason!, refund: Boolean!, restock: Boolean!, staffNote: String = null): OrderCancelPayload
    refundCreate(input: RefundInput!): RefundCreatePayload
    returnCreate(returnInput: ReturnInput!): ReturnCreatePayload
    returnProcess(input: ReturnProcessInput!): ReturnProcessPayload
    returnCancel(id: ID!): ReturnCancelPayload
    productSet(input: ProductSetInput!, synchronous: Boolean = true, identifier: ProductSetIdentifiers): ProductSetPayload
    productVariantsBulkUpdate(productId: ID!, variants: [ProductVariantsBulkInput!]!, allowPartialUpdates: Boolean = false): ProductVariantsBulkUpdatePayload
    webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload
    webhookSubscriptionUpdate(id: ID!, webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionUpdatePayload
    webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
  }

  schema {
    query: QueryRoot
    mutation: Mutation
  }
`;

let cached: GraphQLSchema | undefined;

/** The executable schema (built once; resolvers are supplied at execution time). */
export function adminSchema(): GraphQLSchema {
  cached ??= buildSchema(ADMIN_SDL);
  return cached;
}

/** The `@idempotent` directive definition, for reading its `key` with `getDirectiveValues`. */
export function idempotentDirective(): GraphQLDirective {
  const d = adminSchema().getDirective('idempotent');
  if (!d) throw new Error('schema has no @idempotent directive');
  return d;
}

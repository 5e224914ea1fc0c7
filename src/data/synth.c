/* data_synth: synthetic customers, products, interactions and transactions drawn from a
 * documented hidden model (see synth.h). Everything is table-driven: the vocabularies below
 * ARE the generator's knowledge of the domain; the code only samples from them.
 *
 * Each customer has its own random stream derived from (seed, customer index), so a customer
 * does not change when N changes, and all seven outputs are written in one streaming pass:
 * memory does not grow with N. */
#include "data/synth.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

/* ================================================================== vocabularies */

/* Product tags: what a product is for. Needs, preferences and industries point at tags, so
 * the needs -> products map follows from the catalog instead of being kept by hand. */
enum {
    T_TERM = 1 << 0, T_WC = 1 << 1, T_EXPAND = 1 << 2, T_SBA = 1 << 3, T_EQUIP = 1 << 4,
    T_INVENTORY = 1 << 5, T_GREEN = 1 << 6, T_AGRI = 1 << 7, T_RE = 1 << 8, T_PAY = 1 << 9,
    T_POS = 1 << 10, T_DIGITAL = 1 << 11, T_CASH = 1 << 12, T_TREASURY = 1 << 13,
    T_FRAUD = 1 << 14, T_CARD = 1 << 15, T_FLEET = 1 << 16, T_TRADE = 1 << 17, T_FX = 1 << 18,
    T_HEDGE = 1 << 19, T_SCF = 1 << 20, T_CYBER = 1 << 21, T_LIAB = 1 << 22, T_PROP = 1 << 23,
    T_PERSON = 1 << 24, T_PAYROLL = 1 << 25, T_BENEFITS = 1 << 26, T_INVEST = 1 << 27,
    T_WEALTH = 1 << 28, T_DEPOSIT = 1 << 29, T_SMALL = 1 << 30 /* aimed at small firms */
};
#define T_GROWTH (T_EXPAND | T_INVEST | T_WEALTH)

enum { CAT_LENDING, CAT_PAYMENTS, CAT_TREASURY, CAT_CARDS, CAT_TRADE, CAT_INSURANCE,
       CAT_INVESTMENT, CAT_DEPOSITS, CAT_SERVICES, CAT_COUNT };
static const char *const CAT_NAME[CAT_COUNT] = {
    "lending", "payments", "treasury", "cards", "trade", "insurance", "investment",
    "deposits", "services"
};
/* Bigger firms use more treasury, trade and investment products: logit slope per decade of
 * revenue above $3M, by category. */
static const double CAT_SIZE_SLOPE[CAT_COUNT] = { 0, 0, 0.35, 0.1, 0.35, 0, 0.3, -0.1, 0.1 };

static const char *const LEVEL_NAME[3] = { "low", "medium", "high" };

typedef struct {
    const char *name;
    int cat, term, risk;  /* term in months (0 = open-ended); risk class 0..2 */
    double min_revenue;   /* dollars per year */
    int fee;              /* 0..2 */
    int pop;              /* base popularity, 10 = typical of a mainstream product */
    unsigned tags;
    const char *desc;
} synth_product;

/* Ordered so that any prefix of at least DATA_SYNTH_MIN_PRODUCTS covers every category. */
static const synth_product PRODUCTS[] = {
    { "Business Checking Account", CAT_DEPOSITS, 0, 0, 0, 0, 30, T_DEPOSIT | T_CASH,
      "Everyday operating account with online banking, mobile deposit and free ACH." },
    { "Merchant Card Processing", CAT_PAYMENTS, 0, 0, 50e3, 1, 14, T_PAY | T_POS,
      "Accept credit and debit cards in store and online with next-day funding." },
    { "Small Business Term Loan", CAT_LENDING, 60, 1, 250e3, 1, 7, T_TERM | T_EXPAND | T_SMALL,
      "Fixed-rate loan of $25K to $500K for growth projects, repaid monthly over up to 5 years." },
    { "Business Line of Credit", CAT_LENDING, 12, 1, 250e3, 1, 12, T_WC,
      "Revolving credit to smooth cash flow; interest only on what you draw." },
    { "Corporate Card", CAT_CARDS, 0, 1, 1e6, 1, 7, T_CARD,
      "Employee charge cards with spend controls, receipt capture and cash back." },
    { "Cash Management Suite", CAT_TREASURY, 0, 0, 5e6, 1, 6, T_TREASURY | T_CASH,
      "Consolidated balances, wires, ACH origination and daily cash positioning." },
    { "Payroll Services", CAT_SERVICES, 0, 0, 250e3, 1, 7, T_PAYROLL,
      "Full-service payroll with tax filing, direct deposit and year-end forms." },
    { "SBA 7(a) Loan", CAT_LENDING, 120, 1, 100e3, 0, 5, T_SBA | T_TERM | T_WC | T_SMALL,
      "Government-guaranteed loan up to $5M with long terms and a low down payment." },
    { "Equipment Loan", CAT_LENDING, 60, 1, 250e3, 1, 5, T_EQUIP | T_TERM,
      "Finance machinery, vehicles or technology; the equipment secures the loan." },
    { "Equipment Lease", CAT_LENDING, 48, 0, 100e3, 1, 4, T_EQUIP,
      "Lease equipment for a fixed monthly payment, with an option to buy at term end." },
    { "Cyber Liability Insurance", CAT_INSURANCE, 12, 0, 250e3, 1, 5, T_CYBER,
      "Covers breach response, ransomware, business interruption and notification costs." },
    { "General Liability Insurance", CAT_INSURANCE, 12, 0, 0, 0, 6, T_LIAB,
      "Protection against third-party injury and property damage claims." },
    { "Commercial Property Insurance", CAT_INSURANCE, 12, 0, 100e3, 1, 5, T_PROP,
      "Insures buildings, inventory and equipment against fire, theft and storms." },
    { "E-commerce Payment Gateway", CAT_PAYMENTS, 0, 0, 50e3, 1, 6, T_PAY | T_DIGITAL,
      "Online checkout, digital wallets and subscriptions with fraud screening." },
    { "Point-of-Sale Terminal Package", CAT_PAYMENTS, 0, 0, 50e3, 0, 5, T_POS | T_SMALL,
      "Countertop and mobile POS terminals with inventory and tipping features." },
    { "Letters of Credit", CAT_TRADE, 0, 1, 10e6, 2, 3, T_TRADE,
      "Import and export letters of credit that guarantee payment to overseas suppliers." },
    { "FX Spot and Forward Contracts", CAT_TRADE, 0, 1, 5e6, 1, 3, T_FX | T_HEDGE,
      "Convert currencies at live rates or lock in a rate for future payments." },
    { "Supply Chain Finance Program", CAT_TRADE, 6, 1, 20e6, 1, 3, T_SCF | T_TRADE,
      "Pay suppliers early at the buyer's credit rating while extending your own terms." },
    { "Inventory Financing Loan", CAT_LENDING, 12, 2, 1e6, 1, 4, T_INVENTORY | T_WC,
      "Borrow against inventory to stock up ahead of the peak season." },
    { "Green Energy Loan", CAT_LENDING, 84, 0, 500e3, 0, 3, T_GREEN | T_TERM,
      "Discounted financing for solar, efficiency upgrades and electric fleets." },
    { "Business Expansion Loan", CAT_LENDING, 84, 1, 2e6, 1, 4, T_EXPAND | T_TERM,
      "Finance a new location, an acquisition or a major hiring plan." },
    { "Agriculture Operating Loan", CAT_LENDING, 12, 1, 100e3, 0, 3, T_AGRI | T_WC,
      "Seasonal credit for seed, feed, fertilizer and labor, repaid after harvest." },
    { "Commercial Real Estate Mortgage", CAT_LENDING, 240, 0, 2e6, 0, 3, T_RE | T_EXPAND,
      "Buy or refinance owner-occupied offices, warehouses or retail space." },
    { "High-Yield Business Savings", CAT_DEPOSITS, 0, 0, 0, 0, 12, T_DEPOSIT,
      "Tiered interest on reserve balances with same-day transfers to checking." },
    { "Purchasing Card Program", CAT_CARDS, 0, 0, 10e6, 0, 3, T_CARD | T_SCF,
      "Virtual and physical cards for supplier payments, with rebates and controls." },
    { "ACH and Real-Time Payments", CAT_PAYMENTS, 0, 0, 1e6, 0, 5, T_PAY | T_CASH,
      "Send and receive ACH, same-day ACH and instant payments by API or portal." },
    { "Employee 401(k) Plan", CAT_SERVICES, 0, 0, 1e6, 1, 4, T_BENEFITS,
      "Retirement plan with employer matching, auto-enrollment and fiduciary support." },
    { "Business Investment Account", CAT_INVESTMENT, 0, 1, 5e6, 1, 3, T_INVEST,
      "Invest excess cash in money market funds, treasuries and bond ladders." },
    { "Private Wealth Management for Owners", CAT_INVESTMENT, 0, 1, 20e6, 2, 2,
      T_WEALTH | T_INVEST, "A dedicated advisor for portfolio, estate and succession planning." },
    { "Key Person Life Insurance", CAT_INSURANCE, 120, 0, 1e6, 0, 2, T_PERSON,
      "Protects the business against the loss of an owner or a critical executive." },
    { "Positive Pay Fraud Protection", CAT_TREASURY, 0, 0, 2e6, 0, 3, T_FRAUD | T_TREASURY,
      "Matches presented checks and ACH debits against issued items to stop fraud." },
    { "Liquidity Sweep Account", CAT_TREASURY, 0, 0, 20e6, 0, 2, T_TREASURY | T_CASH | T_DEPOSIT,
      "Sweeps idle balances into interest-bearing or debt-reducing accounts every night." },
    { "Interest Rate and Commodity Hedging", CAT_TRADE, 12, 2, 50e6, 2, 1, T_HEDGE,
      "Swaps, caps and commodity forwards that protect margins from market swings." },
    { "Invoice Factoring", CAT_LENDING, 3, 2, 250e3, 2, 3, T_WC | T_SCF,
      "Turn unpaid invoices into cash within 24 hours." },
    { "Fleet Fuel Card", CAT_CARDS, 0, 0, 500e3, 0, 3, T_CARD | T_FLEET,
      "Fuel and maintenance cards with per-driver limits and IFTA reporting." },
    { "Merchant Cash Advance", CAT_LENDING, 9, 2, 50e3, 2, 2, T_WC | T_SMALL,
      "An advance repaid from a fixed share of daily card sales." },
    { "Short-Term Bridge Loan", CAT_LENDING, 6, 2, 500e3, 2, 2, T_WC,
      "Six-month financing to bridge a gap until a sale, refinancing or receivable lands." },
    { "Farm Equipment and Land Loan", CAT_LENDING, 180, 1, 500e3, 0, 2, T_AGRI | T_EQUIP | T_RE,
      "Long-term financing for tractors, irrigation, barns and farmland." },
    { "Crop and Livestock Insurance", CAT_INSURANCE, 12, 0, 100e3, 1, 2, T_AGRI | T_PROP,
      "Protects yields and herds against drought, flood, disease and price collapse." },
    { "Group Health Benefits Administration", CAT_SERVICES, 12, 0, 2e6, 1, 3,
      T_BENEFITS | T_PAYROLL, "Employee health, dental and vision plans with online enrollment." },
    { "ESG Impact Investment Fund", CAT_INVESTMENT, 0, 1, 10e6, 1, 1, T_INVEST | T_GREEN,
      "Invest reserves in screened green bonds and impact funds." },
    { "12-Month Business CD", CAT_DEPOSITS, 12, 0, 250e3, 0, 3, T_DEPOSIT,
      "A fixed rate for twelve months on funds you will not need soon." },
    { "Remote Deposit Capture", CAT_TREASURY, 0, 0, 250e3, 0, 4, T_CASH | T_DIGITAL,
      "Deposit checks from the office with a scanner or phone." },
    { "Acquisition Financing", CAT_LENDING, 84, 2, 50e6, 2, 1, T_EXPAND | T_TERM,
      "Senior and mezzanine debt to buy a competitor or a supplier." },
    { "Mobile Payments Acceptance", CAT_PAYMENTS, 0, 0, 0, 0, 4, T_PAY | T_POS | T_DIGITAL | T_SMALL,
      "Take contactless payments on a phone; no terminal needed." },
    { "Business Rewards Credit Card", CAT_CARDS, 0, 1, 100e3, 1, 5, T_CARD | T_SMALL,
      "A business credit card with points on travel, fuel and office supplies." },
    { "Trade Credit Insurance", CAT_INSURANCE, 12, 0, 5e6, 1, 1, T_TRADE | T_LIAB,
      "Covers receivables against customer insolvency and political risk abroad." },
    { "Commercial Vehicle Loan", CAT_LENDING, 72, 1, 250e3, 1, 3, T_FLEET | T_EQUIP | T_TERM,
      "Finance trucks, vans and trailers with terms matched to the vehicle's life." },
};
#define NPRODUCTS_MAX ((int)HP_ARRAY_LEN(PRODUCTS))

/* A financial need or a preference: the name written in customers.csv, an occasional
 * variant (the misspellings and capitalisations real files have), the product tags it
 * points to, and how common it is outside the industries that list it. */
typedef struct {
    const char *name, *variant;
    unsigned tags;
    int freq;
} synth_term;

enum { N_LOANS, N_PAYPROC, N_TREASURY, N_SCF, N_EQUIP, N_CARDS, N_TRADE, N_CYBER, N_AGRI,
       N_POS, N_INVENTORY, N_EXPANSION, N_GREEN, N_DIGITAL, N_INVEST, N_HEDGE, N_HNW,
       N_PAYROLL, N_WC, N_CRE, N_MERCHANT, N_FX, N_LIAB, N_PROP, N_RETIRE, N_CASH, N_FRAUD,
       N_SAVINGS, N_FLEET, N_KEYPERSON, N_COUNT };

static const synth_term NEEDS[N_COUNT] = {
    [N_LOANS] = { "Business Loans", NULL, T_TERM | T_SBA, 10 },
    [N_PAYPROC] = { "Payment Processing", "Payment Procesing", T_PAY, 10 },
    [N_TREASURY] = { "Treasury Services", NULL, T_TREASURY, 6 },
    [N_SCF] = { "Supply Chain Financing", NULL, T_SCF, 5 },
    [N_EQUIP] = { "Equipment Leasing", NULL, T_EQUIP, 5 },
    [N_CARDS] = { "Commercial Cards", NULL, T_CARD, 6 },
    [N_TRADE] = { "Trade Finance", NULL, T_TRADE, 3 },
    [N_CYBER] = { "Cyber Insurance", NULL, T_CYBER, 5 },
    [N_AGRI] = { "Agriculture Loans", NULL, T_AGRI, 1 },
    [N_POS] = { "POS Banking", NULL, T_POS, 4 },
    [N_INVENTORY] = { "Inventory Loans", NULL, T_INVENTORY, 3 },
    [N_EXPANSION] = { "Expansion Loans", NULL, T_EXPAND, 4 },
    [N_GREEN] = { "Green Loans", NULL, T_GREEN, 2 },
    [N_DIGITAL] = { "Digital Payments", NULL, T_DIGITAL, 6 },
    [N_INVEST] = { "Investment Management", NULL, T_INVEST, 3 },
    [N_HEDGE] = { "Risk Hedging", NULL, T_HEDGE, 2 },
    [N_HNW] = { "High-Net Worth banking", "High-Net Worth Banking", T_WEALTH, 2 },
    [N_PAYROLL] = { "Payroll Services", NULL, T_PAYROLL, 7 },
    [N_WC] = { "Working Capital", NULL, T_WC, 7 },
    [N_CRE] = { "Commercial Real Estate", NULL, T_RE, 3 },
    [N_MERCHANT] = { "Merchant Services", NULL, T_POS | T_PAY, 5 },
    [N_FX] = { "Foreign Exchange", NULL, T_FX, 3 },
    [N_LIAB] = { "Liability Insurance", NULL, T_LIAB, 5 },
    [N_PROP] = { "Property Insurance", NULL, T_PROP, 4 },
    [N_RETIRE] = { "Employee Retirement Plans", NULL, T_BENEFITS, 4 },
    [N_CASH] = { "Cash Management", NULL, T_CASH, 6 },
    [N_FRAUD] = { "Fraud Protection", NULL, T_FRAUD, 3 },
    [N_SAVINGS] = { "Business Savings", NULL, T_DEPOSIT, 5 },
    [N_FLEET] = { "Fleet Financing", NULL, T_FLEET, 2 },
    [N_KEYPERSON] = { "Key Person Insurance", NULL, T_PERSON, 2 },
};

enum { P_CLOUD, P_INTL, P_SUSTAIN, P_BENEFITS, P_ECOM, P_RND, P_DIGINNOV, P_RESEARCH, P_ALTINV,
       P_PE, P_FARMEQ, P_DISTRIB, P_ETHICAL, P_INTLLOG, P_GLOBALMKT, P_INFLUENCER, P_AUTOMATION,
       P_MOBILE, P_LOWFEES, P_RM, P_REALTIME, P_FLEETEXP, P_COMMUNITY, P_CYBERSEC, P_RENEWABLE,
       P_NEWLOC, P_INVOPT, P_COUNT };

static const synth_term PREFS[P_COUNT] = {
    [P_CLOUD] = { "Cloud Services", NULL, T_DIGITAL | T_CYBER, 6 },
    [P_INTL] = { "International Expansion", NULL, T_FX | T_TRADE | T_EXPAND, 5 },
    [P_SUSTAIN] = { "Sustainability", NULL, T_GREEN, 6 },
    [P_BENEFITS] = { "Employee Benefits", NULL, T_BENEFITS | T_PAYROLL, 6 },
    [P_ECOM] = { "E-commerce tech", "E-commerce Tech", T_DIGITAL | T_PAY, 5 },
    [P_RND] = { "R&D", NULL, T_TERM, 3 },
    [P_DIGINNOV] = { "Digital Innovation", NULL, T_DIGITAL, 4 },
    [P_RESEARCH] = { "Market Research", NULL, T_INVEST, 3 },
    [P_ALTINV] = { "Alternative Investments", "Alternatice Investments", T_INVEST | T_WEALTH, 2 },
    [P_PE] = { "Private Equity", NULL, T_WEALTH | T_EXPAND, 2 },
    [P_FARMEQ] = { "Farm Equipment", NULL, T_AGRI | T_EQUIP, 1 },
    [P_DISTRIB] = { "Distribution Channels", NULL, T_SCF | T_FLEET, 3 },
    [P_ETHICAL] = { "Ethical Sourcing", NULL, T_SCF | T_GREEN, 2 },
    [P_INTLLOG] = { "International Logistics", NULL, T_TRADE | T_FX, 2 },
    [P_GLOBALMKT] = { "Global Marketing", NULL, T_CARD | T_FX, 2 },
    [P_INFLUENCER] = { "Influencer Marketing", NULL, T_CARD, 2 },
    [P_AUTOMATION] = { "Automation", NULL, T_EQUIP, 4 },
    [P_MOBILE] = { "Mobile Banking", NULL, T_DIGITAL | T_DEPOSIT, 7 },
    [P_LOWFEES] = { "Low Fees", NULL, 0, 8 },   /* acts through fee_level, see synth_logit */
    [P_RM] = { "Dedicated Relationship Manager", NULL, T_TREASURY | T_WEALTH, 4 },
    [P_REALTIME] = { "Real-Time Reporting", NULL, T_CASH | T_TREASURY, 4 },
    [P_FLEETEXP] = { "Fleet Expansion", NULL, T_FLEET | T_EQUIP, 2 },
    [P_COMMUNITY] = { "Community Investment", NULL, T_GREEN | T_DEPOSIT, 3 },
    [P_CYBERSEC] = { "Cybersecurity", NULL, T_CYBER | T_FRAUD, 4 },
    [P_RENEWABLE] = { "Renewable Energy", NULL, T_GREEN, 2 },
    [P_NEWLOC] = { "New Locations", NULL, T_RE | T_EXPAND, 4 },
    [P_INVOPT] = { "Inventory Optimization", NULL, T_INVENTORY | T_SCF, 3 },
};

/* Monthly activity multipliers (January first), normalised to mean 1 at run time. */
enum { S_FLAT, S_RETAIL, S_HARVEST, S_BUILD, S_SUMMER, S_TAX, S_SCHOOL, S_FREIGHT, S_GIVING,
       S_NEWYEAR, S_COUNT };
static const double SEASON[S_COUNT][12] = {
    [S_FLAT] = { 1, 1, 1.05, 1, 1, 1, 0.95, 0.9, 1, 1.05, 1, 0.95 },
    [S_RETAIL] = { 0.8, 0.75, 0.85, 0.9, 0.95, 0.95, 0.9, 1, 0.95, 1.05, 1.5, 1.8 },
    [S_HARVEST] = { 0.6, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.3, 1.8, 1.7, 0.9, 0.6 },
    [S_BUILD] = { 0.6, 0.7, 0.9, 1.1, 1.3, 1.4, 1.4, 1.3, 1.2, 1, 0.7, 0.5 },
    [S_SUMMER] = { 0.7, 0.7, 0.9, 1, 1.2, 1.5, 1.7, 1.6, 1.1, 0.9, 0.8, 1.1 },
    [S_TAX] = { 1.3, 1.6, 1.9, 1.8, 0.9, 0.8, 0.7, 0.7, 0.8, 0.8, 0.7, 0.9 },
    [S_SCHOOL] = { 1.2, 1, 0.9, 0.8, 0.8, 0.6, 0.6, 1.5, 1.6, 1.1, 1, 0.8 },
    [S_FREIGHT] = { 0.8, 0.8, 0.9, 0.9, 1, 1, 1, 1.1, 1.2, 1.3, 1.3, 1.2 },
    [S_GIVING] = { 0.8, 0.7, 0.8, 0.8, 0.8, 0.8, 0.7, 0.8, 0.9, 1, 1.6, 2.3 },
    [S_NEWYEAR] = { 1.8, 1.3, 1.1, 1, 1, 0.9, 0.8, 0.8, 1, 0.9, 0.8, 0.7 },
};

#define B(x) (1u << (x))
typedef struct {
    const char *name, *variant;
    int weight;          /* share of the customer base */
    double size;         /* typical employee band index (see EMP_BAND) */
    double rev_per_emp;  /* log10 dollars of revenue per employee */
    double risk;         /* shift of the latent risk score */
    int season, b2c;     /* seasonality profile; 1 = paid by consumers (card settlements) */
    signed char cat[CAT_COUNT]; /* affinity -2..2 per product category */
    unsigned tags;       /* product tags the industry leans to */
    unsigned needs, prefs;
} synth_industry;

static const synth_industry INDUSTRIES[] = {
    { "IT Services and Software Development", "IT Services and Sofware Development", 8, 2.8, 5.35,
      -0.1, S_FLAT, 0, { 0, 1, 1, 1, 0, 0, 1, 0, 1 }, T_CYBER | T_DIGITAL | T_BENEFITS,
      B(N_LOANS) | B(N_PAYPROC) | B(N_TREASURY) | B(N_CYBER) | B(N_PAYROLL) | B(N_DIGITAL) | B(N_RETIRE),
      B(P_CLOUD) | B(P_INTL) | B(P_BENEFITS) | B(P_DIGINNOV) | B(P_AUTOMATION) | B(P_CYBERSEC) },
    { "Agriculture and Organic Food Production", NULL, 4, 2.0, 5.3, 0.15, S_HARVEST, 0,
      { 2, 0, 0, 0, 0, 1, -1, 0, 0 }, T_AGRI | T_EQUIP | T_GREEN,
      B(N_AGRI) | B(N_SCF) | B(N_POS) | B(N_EQUIP) | B(N_WC) | B(N_PROP),
      B(P_FARMEQ) | B(P_DISTRIB) | B(P_SUSTAIN) | B(P_RENEWABLE) },
    { "Financial Services and Wealth Management", NULL, 3, 2.5, 5.7, -0.2, S_FLAT, 0,
      { -1, 0, 2, 0, 1, 0, 2, 0, 0 }, T_WEALTH | T_INVEST | T_HEDGE | T_TREASURY,
      B(N_HNW) | B(N_INVEST) | B(N_HEDGE) | B(N_TREASURY) | B(N_CYBER) | B(N_CASH),
      B(P_RESEARCH) | B(P_ALTINV) | B(P_PE) | B(P_RM) | B(P_REALTIME) },
    { "Fashion and Clothing", "Fashion And Clothing", 4, 2.6, 5.2, 0.1, S_RETAIL, 1,
      { 1, 2, 0, 1, 1, 0, -1, 0, 0 }, T_INVENTORY | T_POS | T_TRADE,
      B(N_SCF) | B(N_INVENTORY) | B(N_PAYPROC) | B(N_MERCHANT) | B(N_TRADE) | B(N_DIGITAL),
      B(P_INFLUENCER) | B(P_INTL) | B(P_SUSTAIN) | B(P_ECOM) | B(P_ETHICAL) },
    { "Sports Equipment and Apparel", NULL, 2, 2.7, 5.25, 0.0, S_RETAIL, 1,
      { 1, 2, 0, 1, 1, 0, 0, 0, 0 }, T_INVENTORY | T_POS,
      B(N_LOANS) | B(N_DIGITAL) | B(N_INVENTORY) | B(N_MERCHANT) | B(N_EXPANSION),
      B(P_RND) | B(P_ECOM) | B(P_INFLUENCER) | B(P_GLOBALMKT) },
    { "Luxury Fashion and Apparel", NULL, 1, 3.8, 5.7, -0.05, S_RETAIL, 1,
      { 0, 2, 1, 1, 1, 1, 1, 0, 0 }, T_WEALTH | T_FX | T_POS,
      B(N_HNW) | B(N_EXPANSION) | B(N_PAYPROC) | B(N_FX) | B(N_TRADE),
      B(P_DIGINNOV) | B(P_GLOBALMKT) | B(P_INTL) | B(P_PE) },
    { "Textile and Sustainable Fabrics", NULL, 2, 3.0, 5.3, 0.05, S_FLAT, 0,
      { 1, 0, 0, 0, 2, 0, 0, 0, 0 }, T_GREEN | T_SCF | T_TRADE,
      B(N_GREEN) | B(N_SCF) | B(N_DIGITAL) | B(N_TRADE) | B(N_EQUIP),
      B(P_RND) | B(P_ETHICAL) | B(P_INTLLOG) | B(P_SUSTAIN) },
    { "Healthcare Clinics", NULL, 6, 2.3, 5.1, -0.1, S_FLAT, 1,
      { 1, 1, 0, 0, -1, 2, 0, 1, 1 }, T_LIAB | T_CYBER | T_EQUIP | T_PAYROLL,
      B(N_EQUIP) | B(N_LIAB) | B(N_CYBER) | B(N_PAYROLL) | B(N_PAYPROC) | B(N_RETIRE) | B(N_LOANS),
      B(P_BENEFITS) | B(P_CLOUD) | B(P_NEWLOC) | B(P_RM) },
    { "Construction", NULL, 7, 2.4, 5.3, 0.25, S_BUILD, 0,
      { 2, 0, 0, 1, 0, 2, -1, 0, 1 }, T_EQUIP | T_LIAB | T_FLEET | T_WC,
      B(N_EQUIP) | B(N_WC) | B(N_LOANS) | B(N_LIAB) | B(N_PAYROLL) | B(N_FLEET) | B(N_CRE),
      B(P_FLEETEXP) | B(P_AUTOMATION) | B(P_NEWLOC) | B(P_LOWFEES) },
    { "Restaurants and Hospitality", NULL, 8, 1.6, 4.9, 0.35, S_SUMMER, 1,
      { 1, 2, 0, 1, -1, 1, -1, 0, 1 }, T_POS | T_WC | T_PROP | T_SMALL,
      B(N_MERCHANT) | B(N_POS) | B(N_WC) | B(N_PAYROLL) | B(N_PROP) | B(N_LOANS),
      B(P_LOWFEES) | B(P_MOBILE) | B(P_NEWLOC) | B(P_COMMUNITY) },
    { "Logistics and Trucking", NULL, 5, 2.5, 5.2, 0.2, S_FREIGHT, 0,
      { 2, 0, 0, 2, 1, 1, -1, 0, 1 }, T_FLEET | T_EQUIP | T_CARD,
      B(N_FLEET) | B(N_EQUIP) | B(N_CARDS) | B(N_WC) | B(N_LIAB) | B(N_FX),
      B(P_FLEETEXP) | B(P_DISTRIB) | B(P_INTLLOG) | B(P_AUTOMATION) },
    { "Retail Stores", NULL, 8, 1.9, 5.2, 0.15, S_RETAIL, 1,
      { 1, 2, 0, 1, 0, 1, -1, 1, 0 }, T_POS | T_INVENTORY | T_FRAUD,
      B(N_MERCHANT) | B(N_POS) | B(N_INVENTORY) | B(N_WC) | B(N_PROP) | B(N_CASH),
      B(P_LOWFEES) | B(P_ECOM) | B(P_MOBILE) | B(P_INVOPT) | B(P_NEWLOC) },
    { "E-commerce and Online Marketplaces", NULL, 4, 2.2, 5.5, 0.1, S_RETAIL, 1,
      { 0, 2, 1, 1, 1, 1, 0, 0, 0 }, T_DIGITAL | T_PAY | T_FRAUD | T_FX,
      B(N_DIGITAL) | B(N_PAYPROC) | B(N_CYBER) | B(N_FRAUD) | B(N_FX) | B(N_INVENTORY),
      B(P_ECOM) | B(P_CLOUD) | B(P_INTL) | B(P_INFLUENCER) | B(P_AUTOMATION) },
    { "Manufacturing and Industrial Equipment", NULL, 5, 3.4, 5.4, 0.0, S_FLAT, 0,
      { 2, 0, 1, 1, 2, 1, 0, 0, 1 }, T_EQUIP | T_TRADE | T_SCF | T_HEDGE,
      B(N_EQUIP) | B(N_SCF) | B(N_TRADE) | B(N_HEDGE) | B(N_LOANS) | B(N_PROP) | B(N_TREASURY),
      B(P_AUTOMATION) | B(P_INTL) | B(P_INVOPT) | B(P_RENEWABLE) },
    { "Real Estate and Property Management", NULL, 4, 1.8, 5.5, 0.05, S_FLAT, 0,
      { 2, 0, 1, 0, -1, 2, 1, 1, 0 }, T_RE | T_PROP | T_DEPOSIT,
      B(N_CRE) | B(N_PROP) | B(N_CASH) | B(N_SAVINGS) | B(N_LIAB) | B(N_GREEN),
      B(P_NEWLOC) | B(P_SUSTAIN) | B(P_RM) | B(P_REALTIME) },
    { "Professional Services and Consulting", NULL, 6, 1.8, 5.3, -0.15, S_FLAT, 0,
      { 0, 1, 1, 1, 0, 1, 1, 1, 1 }, T_PAYROLL | T_BENEFITS | T_CARD | T_PERSON,
      B(N_PAYROLL) | B(N_CARDS) | B(N_RETIRE) | B(N_KEYPERSON) | B(N_SAVINGS) | B(N_LIAB),
      B(P_BENEFITS) | B(P_CLOUD) | B(P_RM) | B(P_MOBILE) },
    { "Accounting and Tax Services", NULL, 2, 1.5, 5.1, -0.2, S_TAX, 0,
      { 0, 1, 1, 0, -1, 1, 1, 1, 2 }, T_PAYROLL | T_CYBER | T_DEPOSIT,
      B(N_PAYROLL) | B(N_CYBER) | B(N_SAVINGS) | B(N_CASH) | B(N_RETIRE),
      B(P_CLOUD) | B(P_CYBERSEC) | B(P_REALTIME) | B(P_LOWFEES) },
    { "Education and Training", NULL, 3, 2.2, 4.9, 0.05, S_SCHOOL, 1,
      { 0, 1, 0, 0, -1, 1, 0, 1, 2 }, T_PAYROLL | T_BENEFITS | T_DIGITAL,
      B(N_PAYROLL) | B(N_RETIRE) | B(N_DIGITAL) | B(N_LOANS) | B(N_SAVINGS),
      B(P_BENEFITS) | B(P_DIGINNOV) | B(P_COMMUNITY) | B(P_CLOUD) },
    { "Renewable Energy and Utilities", NULL, 2, 3.2, 5.8, 0.05, S_SUMMER, 0,
      { 2, 0, 1, 0, 1, 1, 1, 0, 0 }, T_GREEN | T_HEDGE | T_EQUIP,
      B(N_GREEN) | B(N_EQUIP) | B(N_HEDGE) | B(N_EXPANSION) | B(N_CRE) | B(N_TREASURY),
      B(P_RENEWABLE) | B(P_SUSTAIN) | B(P_COMMUNITY) | B(P_PE) },
    { "Automotive Dealers and Repair", NULL, 4, 2.3, 5.6, 0.15, S_FREIGHT, 1,
      { 2, 1, 0, 1, 0, 1, -1, 0, 0 }, T_INVENTORY | T_EQUIP | T_FLEET | T_POS,
      B(N_INVENTORY) | B(N_EQUIP) | B(N_MERCHANT) | B(N_WC) | B(N_PROP) | B(N_FLEET),
      B(P_FLEETEXP) | B(P_LOWFEES) | B(P_NEWLOC) | B(P_DIGINNOV) },
    { "Travel and Tourism", NULL, 3, 2.0, 5.1, 0.3, S_SUMMER, 1,
      { 1, 2, 0, 1, 0, 1, -1, 0, 0 }, T_FX | T_PAY | T_WC,
      B(N_FX) | B(N_PAYPROC) | B(N_WC) | B(N_DIGITAL) | B(N_LIAB) | B(N_CARDS),
      B(P_INTL) | B(P_MOBILE) | B(P_INFLUENCER) | B(P_ECOM) },
    { "Food and Beverage Distribution", NULL, 4, 2.6, 5.6, 0.1, S_FREIGHT, 0,
      { 1, 0, 1, 1, 1, 1, -1, 0, 1 }, T_SCF | T_INVENTORY | T_FLEET,
      B(N_SCF) | B(N_INVENTORY) | B(N_FLEET) | B(N_WC) | B(N_CARDS) | B(N_PROP),
      B(P_DISTRIB) | B(P_INVOPT) | B(P_FLEETEXP) | B(P_SUSTAIN) },
    { "Biotech and Pharmaceuticals", NULL, 2, 3.5, 5.6, 0.05, S_FLAT, 0,
      { 1, 0, 2, 0, 1, 1, 2, 0, 1 }, T_INVEST | T_PERSON | T_LIAB | T_TREASURY,
      B(N_INVEST) | B(N_LIAB) | B(N_TREASURY) | B(N_KEYPERSON) | B(N_EXPANSION) | B(N_FX),
      B(P_RND) | B(P_PE) | B(P_RESEARCH) | B(P_INTL) },
    { "Media, Marketing and Advertising", NULL, 3, 2.1, 5.3, 0.1, S_RETAIL, 0,
      { 0, 1, 0, 2, 0, 1, 0, 0, 1 }, T_CARD | T_DIGITAL | T_CYBER,
      B(N_CARDS) | B(N_DIGITAL) | B(N_PAYROLL) | B(N_CYBER) | B(N_LOANS),
      B(P_INFLUENCER) | B(P_GLOBALMKT) | B(P_CLOUD) | B(P_RESEARCH) },
    { "Nonprofit and Community Organizations", NULL, 3, 1.9, 4.8, 0.0, S_GIVING, 0,
      { -1, 1, 1, 0, -1, 1, 0, 2, 1 }, T_DEPOSIT | T_CASH | T_PAYROLL,
      B(N_SAVINGS) | B(N_CASH) | B(N_PAYROLL) | B(N_DIGITAL) | B(N_LIAB),
      B(P_COMMUNITY) | B(P_LOWFEES) | B(P_SUSTAIN) | B(P_MOBILE) },
    { "Fitness and Wellness Studios", NULL, 2, 1.2, 4.9, 0.3, S_NEWYEAR, 1,
      { 1, 2, 0, 0, -1, 1, -1, 0, 0 }, T_POS | T_SMALL | T_LIAB | T_EQUIP,
      B(N_POS) | B(N_EQUIP) | B(N_LIAB) | B(N_MERCHANT) | B(N_WC),
      B(P_MOBILE) | B(P_LOWFEES) | B(P_NEWLOC) | B(P_COMMUNITY) },
};
#define NINDUSTRIES ((int)HP_ARRAY_LEN(INDUSTRIES))

typedef struct { const char *name; int weight; } synth_weighted;
static const synth_weighted REGIONS[] = {
    { "Northeast", 16 }, { "Mid-Atlantic", 12 }, { "Southeast", 20 }, { "Midwest", 19 },
    { "Southwest", 12 }, { "Mountain West", 7 }, { "Pacific", 10 }, { "Pacific Northwest", 4 },
};

typedef struct { double lo, hi; const char *label; } synth_band;
/* Employee bands as the hackathon file writes them; the last one's hi only bounds sampling. */
static const synth_band EMP_BAND[] = {
    { 1, 10, "1-10" }, { 10, 50, "10-50" }, { 50, 100, "50-100" }, { 100, 200, "100-200" },
    { 200, 500, "200-500" }, { 500, 1000, "500-1000" }, { 1000, 2500, "1000-2500" },
    { 2500, 5000, "2500-5000" }, { 5000, 30000, "5000+" },
};
#define NEMP_BANDS ((int)HP_ARRAY_LEN(EMP_BAND))
static const synth_band REV_BAND[] = {
    { 0, 5e4, "$20K - $50K" }, { 5e4, 1e5, "$50K - $100K" }, { 1e5, 2.5e5, "$100K - $250K" },
    { 2.5e5, 5e5, "$250K - $500K" }, { 5e5, 1e6, "$500K - $1M" }, { 1e6, 5e6, "1M-5M" },
    { 5e6, 1e7, "5M-10M" }, { 1e7, 2e7, "10M-20M" }, { 2e7, 3e7, "20M-30M" },
    { 3e7, 5e7, "30M-50M" }, { 5e7, 8e7, "50M-80M" }, { 8e7, 1.2e8, "80M-120M" },
    { 1.2e8, 1.5e8, "120M-150M" }, { 1.5e8, 2e8, "150M-200M" }, { 2e8, 3e8, "200M-300M" },
    { 3e8, 5e8, "300M-500M" }, { 5e8, 7e8, "500M-700M" }, { 7e8, 1e9, "700M-1B" },
    { 1e9, 1.5e9, "1B-1.5B" }, { 1.5e9, INFINITY, "1.5B+" },
};

/* ---- free-text phrases; pools are chosen by a noisy view of the hidden sentiment ---- */
#define PHRASES(...) { __VA_ARGS__ }
static const char *const NOTE_OPENER[] = PHRASES(
    "Quarterly review with the owner.", "Annual review completed.", "Call with the CFO.",
    "Site visit at their main location.", "Met the finance team.", "Check-in by phone.",
    "Renewal discussion.", "Lunch with the founders.", "Video call with the controller.");
static const char *const NOTE_NEG[] = PHRASES(
    "Cash flow is tight after a slow season.", "Missed payment on the term loan last month.",
    "Client requested a payment holiday on the existing facility.",
    "Overdraft used most days this quarter.",
    "Two large customers pay late, receivables aging badly.",
    "Revenue down versus last year; margins under pressure.",
    "Asked to restructure the loan, citing \"temporary\" weakness.",
    "Payroll was funded late twice this quarter.",
    "Worried about a covenant breach at year end.",
    "Returned payments from their account this month.");
static const char *const NOTE_NEU[] = PHRASES(
    "Business steady, no major changes.", "Operations stable; owner cautious on new spending.",
    "Reviewing vendor contracts this quarter.", "Considering options for next year.",
    "No issues reported.", "Hiring paused, revenue flat.", "Asked for updated pricing.");
static const char *const NOTE_POS[] = PHRASES(
    "Record quarter, revenue up strongly.", "Expanding to a second site next spring.",
    "Signed a multi-year contract with a national chain.",
    "Strong cash position, paying down debt early.", "Hiring aggressively; headcount up 30%.",
    "Exploring international expansion.", "Margins improved after an automation project.",
    "Won a large government contract.");
static const char *const NOTE_NEED[] = PHRASES(
    "Owner asked about ", "Interested in ", "Follow up on ", "Wants a proposal for ");
static const char *const MSG_NEG[] = PHRASES(
    "Cash flow is tight this month, can we defer the payment?",
    "We missed a payment because a client paid late, sorry.",
    "Requesting a payment holiday until sales recover.",
    "Why was I charged another overdraft fee?",
    "Can you extend our line of credit? We're short on payroll.",
    "Sales are down and we need help with working capital.",
    "The \"instant\" transfer took three days and a payment bounced.");
static const char *const MSG_NEU[] = PHRASES(
    "Please send the updated fee schedule.", "How do I add a user to online banking?",
    "Can we schedule a call next week?", "Please update our mailing address.",
    "What are your wire cut-off times?", "Where can I download last year's statements?");
static const char *const MSG_POS[] = PHRASES(
    "We just had a record quarter!",
    "We're opening a second location and need financing options.",
    "Thanks for the quick help \xe2\x80\x94 everything works great.",
    "Looking to invest surplus cash, what do you offer?",
    "We are hiring 20 people and need payroll and benefits set up.",
    "Great year so far, thinking about expanding overseas.");
static const char *const MSG_GREETING[] = PHRASES("Hi, ", "Hello team, ", "Good morning, ");

/* ---- transactions ---- */
enum { TX_CARD, TX_INVOICE, TX_DEPOSIT, TX_TRANSFER, TX_PAYROLL, TX_RENT, TX_SUPPLIER,
       TX_UTIL, TX_TAX, TX_LOAN, TX_INSURE, TX_SOFTWARE, TX_OVERDRAFT, TX_RETURNED,
       TX_LATE, TX_COUNT };
typedef struct {
    const char *category;
    int inflow;
    int w_b2c, w_b2b;         /* relative frequency for consumer / business-paid industries */
    double scale;             /* typical size relative to the average flow of its direction */
    const char *counterparty; /* NULL: a generated business name */
    const char *memo;
    int memo_num;             /* append a number of this many digits */
    int memo_month;           /* append the month's name */
} synth_txkind;
static const synth_txkind TXK[TX_COUNT] = {
    [TX_CARD] = { "card_settlement", 1, 6, 1, 1, "CardNet Settlement", "Card settlement batch ", 4, 0 },
    [TX_INVOICE] = { "invoice_payment", 1, 1, 6, 1.2, NULL, "Payment for invoice INV-", 5, 0 },
    [TX_DEPOSIT] = { "sales_deposit", 1, 2, 1, 0.5, NULL, "Cash and check deposit", 0, 0 },
    [TX_TRANSFER] = { "transfer_in", 1, 1, 1, 0.4, "Own savings account", "Transfer from savings", 0, 0 },
    [TX_PAYROLL] = { "payroll", 0, 5, 5, 1.6, "PayFlow Payroll Services", "Payroll ", 0, 1 },
    [TX_RENT] = { "rent", 0, 3, 2, 0.6, "Oakmont Property Management", "Rent ", 0, 1 },
    [TX_SUPPLIER] = { "supplier", 0, 6, 5, 1.4, NULL, "PO-", 5, 0 },
    [TX_UTIL] = { "utilities", 0, 2, 2, 0.12, "Metro Power & Light", "Electric and water, ", 0, 1 },
    [TX_TAX] = { "tax", 0, 1, 1, 1, "IRS", "Estimated tax payment", 0, 0 },
    [TX_LOAN] = { "loan_repayment", 0, 1, 1, 0.5, "First Meridian Bank Loan Servicing",
                  "Loan payment, acct ending ", 4, 0 },
    [TX_INSURE] = { "insurance_premium", 0, 1, 1, 0.2, "Granite Mutual Insurance", "Policy premium ", 0, 1 },
    [TX_SOFTWARE] = { "software", 0, 1, 2, 0.08, "Cloudline Software, Inc.", "Monthly subscription", 0, 0 },
    [TX_OVERDRAFT] = { "overdraft_fee", 0, 0, 0, 0, "First Meridian Bank", "Overdraft fee", 0, 0 },
    [TX_RETURNED] = { "returned_payment", 0, 0, 0, 0, NULL,
                      "Returned payment - insufficient funds (NSF)", 0, 0 },
    [TX_LATE] = { "late_fee", 0, 0, 0, 0, NULL, "Late fee, invoice INV-", 5, 0 },
};
static const char *const NAME_A[] = PHRASES(
    "Northwind", "Blue Ridge", "Summit", "Lakeside", "Redwood", "Harbor", "Pioneer",
    "Silver Oak", "Granite", "Maple Leaf", "Caf\xc3\xa9 Lumi\xc3\xa8re", "Sunrise", "Evergreen",
    "Bayview", "Ironwood", "Prairie", "Smith, Jones &", "Golden Gate", "Riverbend", "Keystone");
static const char *const NAME_B[] = PHRASES(
    "Foods", "Traders", "Health", "Logistics", "Retail Group", "Partners", "Holdings",
    "Studios", "Builders", "Supply Co.", "Market", "Wholesale", "Distributors", "Labs");
static const char *const MONTH_NAME[12] = PHRASES(
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December");

/* ================================================================== the hidden model */

/* Weights of the affinity logit; X(name, value, meaning) so truth.json documents exactly
 * the numbers the code uses. */
#define SYNTH_WEIGHTS(X)                                                                     \
    X(intercept, -4.3, "base log-odds of holding or adopting a product")                       \
    X(engagement_sd, 0.4, "sd of the per-customer log-odds shift (how much they buy overall)") \
    X(popularity, 0.9, "x ln(base popularity / 10), plus popularity_jitter_sd")                 \
    X(popularity_jitter_sd, 0.15, "per-seed jitter of each product's popularity logit")         \
    X(industry_category, 0.45, "x industry affinity (-2..2) for the product's category")        \
    X(industry_tag, 0.6, "when the product has a tag the industry leans to")                    \
    X(category_size, 1.0, "x category size slope x (log10 revenue - 6.5)")                      \
    X(revenue_short, 1.2, "- per decade of revenue below the product's min_revenue")            \
    X(small_for_big, 0.5, "- per decade above $10M revenue, products aimed at small firms")     \
    X(term_young, 0.6, "- for terms >= 60 months when the firm is younger than 5 years")        \
    X(need, 2.2, "when one of the customer's needs (listed or hidden) maps to the product")    \
    X(need_extra, 0.5, "for each further matching need")                                       \
    X(preference, 0.6, "per matching preference")                                              \
    X(low_fees, 0.5, "- x fee level (0..2) when the customer prefers low fees")                \
    X(wc_risk, 2.0, "working-capital products: x (risk - 0.3)")                                \
    X(wc_distress, 1.2, "working-capital products: when distressed")                           \
    X(growth_health, 1.6, "growth/investment products: x (0.35 - risk)")                        \
    X(growth_sentiment, 0.5, "growth/investment products: x sentiment")                         \
    X(lending_risk_class, 1.0, "lending: x (risk - 0.3) x (risk_class - 1)")                    \
    X(noise_sd, 0.6, "sd of the per customer-product noise")

typedef struct {
#define X(n, v, d) double n;
    SYNTH_WEIGHTS(X)
#undef X
} synth_weights;
static const synth_weights W = {
#define X(n, v, d) v,
    SYNTH_WEIGHTS(X)
#undef X
};

/* Observation model constants (also written to truth.json). */
#define OBS_HELD_SHARE 0.55   /* an owned product was held at the start rather than adopted */
#define OBS_CLICK_RATE 0.45   /* P(click) = rate x sqrt(p): broader than adoption */
#define OBS_RATE_SHARE 0.4    /* owned products that get a rating */
#define HIDDEN_NEED_SHARE 0.3 /* customers with one need not listed in financial_needs */
#define DISTRESS_THRESHOLD 0.72

/* Dates: interactions over two years, transactions over the last one. */
#define DAY 86400LL
#define WINDOW_START_DAYS 19358 /* 2023-01-01 */
#define TX_YEAR 2024             /* transactions cover this calendar year */
#define WINDOW_END_DAYS 20089   /* 2025-01-01, exclusive */
#define AS_OF_YEAR 2025

/* ================================================================== state */

typedef struct {
    long idx;
    char id[32];
    int ind, emp_band, region, age, founded, gender, minority, group, distress;
    double employees, revenue, lrev, risk, sentiment, engage;
    unsigned needs, prefs, needs_all; /* needs_all adds the hidden need */
    int hidden_need;                  /* -1 none */
    int64_t since_days;
} synth_customer;

typedef struct { int64_t ts; int prod, kind, value; } synth_event;
typedef struct { int64_t ts; double amount; int kind; unsigned num, name; } synth_tx;

enum { F_CUSTOMERS, F_PRODUCTS, F_INTERACTIONS, F_TRANSACTIONS, F_TRUTH_CUST, F_TRUTH_AFF,
       F_COUNT };
static const char *const FILE_NAME[F_COUNT] = {
    "customers.csv", "products.csv", "interactions.csv", "transactions.csv",
    "truth_customers.csv", "truth_affinity.csv"
};
static const char *const KIND_NAME[4] = { "held", "clicked", "adopted", "rated" };
enum { K_HELD, K_CLICKED, K_ADOPTED, K_RATED };

/* One output file with its own large buffer: rows are formatted by hand into buf and
 * written in big fwrite calls; err keeps the first errno so a full disk is reported once. */
typedef struct {
    FILE *f;
    char *path;
    char *buf;
    size_t len, cap;
    int err;
} synth_out;

typedef struct {
    data_synth_opts o;
    int np;                       /* products in use */
    double pop[NPRODUCTS_MAX];    /* popularity logit per product */
    unsigned need_bits[NPRODUCTS_MAX], pref_bits[NPRODUCTS_MAX]; /* needs/prefs matching p */
    double season[S_COUNT][12];   /* normalised multipliers */
    double bias_factor;           /* exp(-bias) */
    double tx_mean_scale[2][2];   /* [inflow][b2c]: frequency-weighted mean of TXK scale */
    int id_width;
    synth_out out[F_COUNT];
    synth_event *ev;              /* (3 * np) one customer's interactions */
    synth_tx *tx;                 /* (tx_cap) one customer's transactions */
    int tx_cap;
    double *logit, *prob;         /* (np) one customer's affinities */
} synth_ctx;

/* ================================================================== small helpers */

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

static int popcount32(unsigned x)
{
    int n = 0;
    for (; x; x &= x - 1) n++;
    return n;
}

/* Mixes (seed, index) into a stream seed so neighbouring customers get unrelated streams. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int pick_weighted(hp_rng *r, const synth_weighted *w, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++) total += w[i].weight;
    int x = (int)hp_rng_below(r, (uint64_t)total);
    for (int i = 0; i < n; i++) {
        if (x < w[i].weight) return i;
        x -= w[i].weight;
    }
    return n - 1;
}

static const char *pick(hp_rng *r, const char *const *list, size_t n)
{
    return list[hp_rng_below(r, n)];
}
#define PICK(r, list) pick((r), (list), HP_ARRAY_LEN(list))

/* Proleptic Gregorian conversions (H. Hinnant's algorithms), so no libc time zone code runs. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* ================================================================== buffered output */

static void out_flush(synth_out *o)
{
    if (o->len && !o->err) {
        errno = 0;
        if (fwrite(o->buf, 1, o->len, o->f) != o->len) o->err = errno ? errno : EIO;
    }
    o->len = 0;
}

static inline void out_mem(synth_out *o, const char *s, size_t n)
{
    if (o->len + n > o->cap) {
        out_flush(o);
        if (n > o->cap) { /* never happens for our rows, but stay correct */
            if (!o->err && fwrite(s, 1, n, o->f) != n) o->err = errno ? errno : EIO;
            return;
        }
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void out_str(synth_out *o, const char *s) { out_mem(o, s, strlen(s)); }
static inline void out_ch(synth_out *o, char c)
{
    if (o->len == o->cap) out_flush(o);
    o->buf[o->len++] = c;
}

static void out_uint(synth_out *o, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width && n < (int)sizeof tmp) tmp[sizeof tmp - 1 - n++] = '0';
    out_mem(o, tmp + sizeof tmp - n, (size_t)n);
}

/* Fixed-point decimal without printf: millions of numbers per second matter at 1M customers. */
static void out_fixed(synth_out *o, double v, int decimals)
{
    static const double scale[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6 };
    uint64_t p = (uint64_t)scale[decimals];
    uint64_t x = (uint64_t)llround(fabs(v) * scale[decimals]);
    if (v < 0 && x) out_ch(o, '-');
    out_uint(o, x / p, 0);
    if (decimals) {
        out_ch(o, '.');
        out_uint(o, x % p, decimals);
    }
}

/* A CSV field: quoted (with "" doubling) only when it holds a comma, quote or line break. */
static void out_field(synth_out *o, const char *s)
{
    size_t n = strcspn(s, ",\"\r\n");
    if (!s[n]) {
        out_mem(o, s, n);
        return;
    }
    out_ch(o, '"');
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        out_mem(o, s, (size_t)(q - s + 1));
        out_ch(o, '"');
    }
    out_str(o, s);
    out_ch(o, '"');
}

static void out_date(synth_out *o, int64_t days)
{
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    out_uint(o, (uint64_t)y, 4);
    out_ch(o, '-');
    out_uint(o, (uint64_t)m, 2);
    out_ch(o, '-');
    out_uint(o, (uint64_t)d, 2);
}

static void out_ts(synth_out *o, int64_t t)
{
    int64_t days = t / DAY, s = t % DAY;
    out_date(o, days);
    out_ch(o, 'T');
    out_uint(o, (uint64_t)(s / 3600), 2);
    out_ch(o, ':');
    out_uint(o, (uint64_t)(s / 60 % 60), 2);
    out_ch(o, ':');
    out_uint(o, (uint64_t)(s % 60), 2);
    out_ch(o, 'Z');
}

/* ================================================================== customers */

/* Picks a term index from mask (weighted by freq), skipping those already in *taken. */
static int pick_term(hp_rng *r, const synth_term *terms, int n, unsigned mask, unsigned taken)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        if ((mask & B(i)) && !(taken & B(i))) total += terms[i].freq;
    if (total == 0) return -1;
    int x = (int)hp_rng_below(r, (uint64_t)total);
    for (int i = 0; i < n; i++) {
        if (!(mask & B(i)) || (taken & B(i))) continue;
        if (x < terms[i].freq) return i;
        x -= terms[i].freq;
    }
    return -1;
}

/* 2-4 distinct terms including those in forced, each other one from the industry's list with
 * probability p_ind, else from any. */
static unsigned pick_terms(hp_rng *r, const synth_term *terms, int n, unsigned ind_mask,
                           double p_ind, unsigned forced)
{
    unsigned all = (n >= 32) ? ~0u : (1u << n) - 1, taken = forced;
    int k = 2 + (int)hp_rng_below(r, 3);
    for (int j = popcount32(forced); j < k; j++) {
        unsigned mask = hp_rng_uniform(r) < p_ind ? ind_mask : all;
        int t = pick_term(r, terms, n, mask, taken);
        if (t < 0) t = pick_term(r, terms, n, all, taken);
        if (t >= 0) taken |= B(t);
    }
    return taken;
}

static int pick_industry(hp_rng *r)
{
    int total = 0;
    for (int i = 0; i < NINDUSTRIES; i++) total += INDUSTRIES[i].weight;
    int x = (int)hp_rng_below(r, (uint64_t)total);
    for (int i = 0; i < NINDUSTRIES; i++) {
        if (x < INDUSTRIES[i].weight) return i;
        x -= INDUSTRIES[i].weight;
    }
    return NINDUSTRIES - 1;
}

static void customer_firmographics(hp_rng *r, synth_customer *c)
{
    c->ind = pick_industry(r);
    const synth_industry *ind = &INDUSTRIES[c->ind];
    /* a small corporate segment gives the long right tail banks see (5000+ employees) */
    double corporate = hp_rng_uniform(r) < 0.06 ? 3.0 : 0;
    double z = clampd(ind->size + corporate + 1.3 * hp_rng_normal(r), 0, NEMP_BANDS - 1e-6);
    c->emp_band = (int)z;
    const synth_band *eb = &EMP_BAND[c->emp_band];
    c->employees = eb->lo * pow(eb->hi / eb->lo, z - c->emp_band);
    double rev_per_emp = pow(10, ind->rev_per_emp + 0.25 * hp_rng_normal(r));
    c->revenue = clampd(c->employees * rev_per_emp, 2e4, 5e11);
    c->lrev = log10(c->revenue);
    c->region = pick_weighted(r, REGIONS, (int)HP_ARRAY_LEN(REGIONS));
    c->age = (int)clampd(exp(log(6 + 3 * z) + 0.7 * hp_rng_normal(r)), 1, 120);
    c->founded = AS_OF_YEAR - c->age;
    int64_t first = days_from_civil(c->founded > 1995 ? c->founded : 1995, 1, 1);
    int64_t last = WINDOW_END_DAYS - 180;
    c->since_days = first + (int64_t)hp_rng_below(r, (uint64_t)(last - first));
}

/* Protected attributes are drawn apart from everything else: with bias 0 the groups are
 * exchangeable, so any gap an evaluation finds is the injected one. */
static void customer_protected(hp_rng *r, synth_customer *c)
{
    double u = hp_rng_uniform(r);
    c->gender = u < 0.21 ? 0 : u < 0.23 ? 2 : 1; /* female, male, nonbinary */
    c->minority = hp_rng_uniform(r) < 0.19;
    c->group = c->gender != 1 || c->minority;
}

/* Latent risk: small, young firms in risky industries score higher; distress is the tail. */
static void customer_latent(hp_rng *r, synth_customer *c)
{
    const synth_industry *ind = &INDUSTRIES[c->ind];
    double x = -1.3 + 2 * ind->risk + 0.25 * (3 - (c->emp_band + 0.5)) + (c->age < 4 ? 0.5 : 0)
             + 0.9 * hp_rng_normal(r);
    c->distress = x + 0.6 * hp_rng_normal(r) > DISTRESS_THRESHOLD;
    c->risk = sigmoid(x + 1.5 * c->distress);
    c->sentiment = tanh(0.3 - 0.8 * (x + 1.0) - 1.3 * c->distress + 0.45 * hp_rng_normal(r));
    c->engage = W.engagement_sd * hp_rng_normal(r);
}

static void customer_needs(hp_rng *r, synth_customer *c)
{
    const synth_industry *ind = &INDUSTRIES[c->ind];
    /* distressed firms say so half the time in what they ask for */
    unsigned forced = c->distress && hp_rng_uniform(r) < 0.5 ? B(N_WC) : 0;
    c->needs = pick_terms(r, NEEDS, N_COUNT, ind->needs, 0.8, forced);
    c->prefs = pick_terms(r, PREFS, P_COUNT, ind->prefs, 0.75, 0);
    c->hidden_need = -1;
    c->needs_all = c->needs;
    if (hp_rng_uniform(r) < HIDDEN_NEED_SHARE) {
        c->hidden_need = pick_term(r, NEEDS, N_COUNT, ~0u, c->needs);
        if (c->hidden_need >= 0) c->needs_all |= B(c->hidden_need);
    }
}

static void customer_make(synth_ctx *g, long idx, synth_customer *c, hp_rng *r)
{
    hp_rng_seed(r, mix64(g->o.seed ^ mix64((uint64_t)idx + 0x5851f42d4c957f2dULL)));
    c->idx = idx;
    snprintf(c->id, sizeof c->id, "ORG_US_%0*ld", g->id_width, idx + 1);
    customer_firmographics(r, c);
    customer_protected(r, c);
    customer_latent(r, c);
    customer_needs(r, c);
}

/* ================================================================== text */

typedef struct { char s[640]; size_t n; } synth_text;

static void text_add(synth_text *t, const char *s)
{
    size_t k = strlen(s);
    if (t->n + k + 1 > sizeof t->s) k = sizeof t->s - 1 - t->n;
    memcpy(t->s + t->n, s, k);
    t->n += k;
    t->s[t->n] = 0;
}

/* Which pool a text comes from: sentiment seen through noise, so the text is informative
 * but not a perfect label. Returns -1, 0 or 1. */
static int text_mood(hp_rng *r, const synth_customer *c)
{
    double s = c->sentiment + 0.45 * hp_rng_normal(r);
    return s < -0.3 ? -1 : s > 0.3 ? 1 : 0;
}

static const char *mood_phrase(hp_rng *r, int mood, int msg)
{
    if (mood < 0) return msg ? PICK(r, MSG_NEG) : PICK(r, NOTE_NEG);
    if (mood > 0) return msg ? PICK(r, MSG_POS) : PICK(r, NOTE_POS);
    return msg ? PICK(r, MSG_NEU) : PICK(r, NOTE_NEU);
}

static void make_rm_note(hp_rng *r, const synth_customer *c, synth_text *t)
{
    t->n = 0;
    t->s[0] = 0;
    if (hp_rng_uniform(r) < 0.08) return;
    text_add(t, PICK(r, NOTE_OPENER));
    text_add(t, " ");
    text_add(t, mood_phrase(r, text_mood(r, c), 0));
    /* the hidden need is only visible here: the text carries signal the lists do not */
    int need = -1;
    if (c->hidden_need >= 0 && hp_rng_uniform(r) < 0.6) need = c->hidden_need;
    else if (hp_rng_uniform(r) < 0.25) need = pick_term(r, NEEDS, N_COUNT, c->needs, 0);
    if (need >= 0) {
        text_add(t, " ");
        text_add(t, PICK(r, NOTE_NEED));
        text_add(t, NEEDS[need].name);
        text_add(t, ".");
    }
}

static void make_message(hp_rng *r, const synth_customer *c, synth_text *t)
{
    t->n = 0;
    t->s[0] = 0;
    if (hp_rng_uniform(r) < 0.3) return;
    double u = hp_rng_uniform(r);
    /* a few messages keep the line break of an e-mail, as pasted text does */
    if (u < 0.02) text_add(t, "Hi,\n");
    else if (u < 0.3) text_add(t, PICK(r, MSG_GREETING));
    text_add(t, mood_phrase(r, text_mood(r, c), 1));
}

/* ================================================================== affinity */

static double synth_logit(const synth_ctx *g, const synth_customer *c, int pi)
{
    const synth_product *p = &PRODUCTS[pi];
    const synth_industry *ind = &INDUSTRIES[c->ind];
    double l = W.intercept + c->engage + g->pop[pi];
    l += W.industry_category * ind->cat[p->cat];
    if (p->tags & ind->tags) l += W.industry_tag;
    l += W.category_size * CAT_SIZE_SLOPE[p->cat] * (c->lrev - 6.5);
    if (p->min_revenue > 0 && log10(p->min_revenue) > c->lrev)
        l -= W.revenue_short * (log10(p->min_revenue) - c->lrev);
    if ((p->tags & T_SMALL) && c->lrev > 7) l -= W.small_for_big * (c->lrev - 7);
    if (p->term >= 60 && c->age < 5) l -= W.term_young;
    int needs = popcount32(c->needs_all & g->need_bits[pi]);
    if (needs) l += W.need + W.need_extra * (needs - 1);
    l += W.preference * popcount32(c->prefs & g->pref_bits[pi]);
    if (c->prefs & B(P_LOWFEES)) l -= W.low_fees * p->fee;
    if (p->tags & T_WC) l += W.wc_risk * (c->risk - 0.3) + W.wc_distress * c->distress;
    if (p->tags & T_GROWTH)
        l += W.growth_health * (0.35 - c->risk) + W.growth_sentiment * c->sentiment;
    if (p->cat == CAT_LENDING) l += W.lending_risk_class * (c->risk - 0.3) * (p->risk - 1);
    return l;
}

static void customer_affinity(synth_ctx *g, hp_rng *r, const synth_customer *c)
{
    for (int p = 0; p < g->np; p++) {
        g->logit[p] = synth_logit(g, c, p) + W.noise_sd * hp_rng_normal(r);
        g->prob[p] = sigmoid(g->logit[p]);
    }
}

/* ================================================================== rows */

static void write_customer_row(synth_ctx *g, hp_rng *r, const synth_customer *c)
{
    static const char *const GENDER[3] = { "female", "male", "nonbinary" };
    synth_out *o = &g->out[F_CUSTOMERS];
    const synth_industry *ind = &INDUSTRIES[c->ind];
    out_str(o, c->id);
    out_ch(o, ',');
    out_field(o, ind->variant && hp_rng_uniform(r) < 0.03 ? ind->variant : ind->name);
    out_ch(o, ',');
    out_str(o, EMP_BAND[c->emp_band].label);
    out_ch(o, ',');
    int rb = 0;
    while (c->revenue >= REV_BAND[rb].hi) rb++;
    /* small firms' revenue is often written as "<1M" rather than a precise band */
    out_field(o, c->revenue < 1e6 && hp_rng_uniform(r) < 0.35 ? "<1M" : REV_BAND[rb].label);
    for (int list = 0; list < 2; list++) {
        const synth_term *terms = list ? PREFS : NEEDS;
        unsigned bits = list ? c->prefs : c->needs;
        synth_text t = { .n = 0 };
        for (int i = 0; bits; i++, bits >>= 1) {
            if (!(bits & 1)) continue;
            if (t.n) text_add(&t, ", ");
            int typo = terms[i].variant && hp_rng_uniform(r) < 0.03;
            text_add(&t, typo ? terms[i].variant : terms[i].name);
        }
        out_ch(o, ',');
        out_field(o, t.s);
    }
    out_ch(o, ',');
    out_str(o, REGIONS[c->region].name);
    out_ch(o, ',');
    out_uint(o, (uint64_t)c->founded, 0);
    out_ch(o, ',');
    out_str(o, GENDER[c->gender]);
    out_str(o, c->minority ? ",yes," : ",no,");
    out_date(o, c->since_days);
    synth_text t;
    make_rm_note(r, c, &t);
    out_ch(o, ',');
    out_field(o, t.s);
    make_message(r, c, &t);
    out_ch(o, ',');
    out_field(o, t.s);
    out_ch(o, '\n');
}

static void write_truth_rows(synth_ctx *g, const synth_customer *c)
{
    synth_out *o = &g->out[F_TRUTH_CUST];
    out_str(o, c->id);
    out_str(o, c->distress ? ",1," : ",0,");
    out_fixed(o, c->risk, 4);
    out_ch(o, ',');
    out_fixed(o, c->sentiment, 4);
    out_str(o, c->group ? ",1\n" : ",0\n");
    o = &g->out[F_TRUTH_AFF];
    out_str(o, c->id);
    for (int p = 0; p < g->np; p++) {
        out_ch(o, ',');
        out_fixed(o, g->prob[p], 6);
    }
    out_ch(o, '\n');
}

static int event_cmp(const synth_event *a, const synth_event *b)
{
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    if (a->prod != b->prod) return a->prod - b->prod;
    return a->kind - b->kind;
}

static void sort_events(synth_event *e, int n)
{
    for (int i = 1; i < n; i++) {
        synth_event x = e[i];
        int j = i;
        for (; j > 0 && event_cmp(&e[j - 1], &x) > 0; j--) e[j] = e[j - 1];
        e[j] = x;
    }
}

static int64_t uniform_ts(hp_rng *r, int64_t lo, int64_t hi)
{
    return hi > lo ? lo + (int64_t)hp_rng_below(r, (uint64_t)(hi - lo)) : lo;
}

/* A rating rises with the customer's log-odds for the product (owned products sit around
 * -1.5), with noise, so ratings carry affinity signal beyond the 0/1 of ownership. */
static int rating_for(hp_rng *r, double logit)
{
    double v = 3.6 + 0.8 * (logit + 1.5) + 0.8 * hp_rng_normal(r);
    return (int)clampd(floor(v + 0.5), 1, 5);
}

/* Observed interactions: owned (held or adopted) ~ Bernoulli(p x bias factor), clicks
 * ~ Bernoulli(rate x sqrt(p)), ratings for some owned products. */
static int draw_events(synth_ctx *g, hp_rng *r, const synth_customer *c)
{
    int64_t t0 = (c->since_days > WINDOW_START_DAYS ? c->since_days : WINDOW_START_DAYS) * DAY;
    int64_t t1 = WINDOW_END_DAYS * DAY;
    int n = 0;
    for (int p = 0; p < g->np; p++) {
        double q = g->prob[p];
        if (c->group && PRODUCTS[p].cat == CAT_LENDING) q *= g->bias_factor;
        int64_t own_ts = -1;
        if (hp_rng_uniform(r) < q) {
            int held = hp_rng_uniform(r) < OBS_HELD_SHARE;
            own_ts = held ? t0 : uniform_ts(r, t0 + DAY, t1);
            g->ev[n++] = (synth_event){ own_ts, p, held ? K_HELD : K_ADOPTED, 1 };
            if (hp_rng_uniform(r) < OBS_RATE_SHARE) {
                int64_t after = own_ts + HP_MIN(DAY, (t1 - own_ts) / 2);
                g->ev[n++] = (synth_event){ uniform_ts(r, after, t1), p, K_RATED,
                                            rating_for(r, g->logit[p]) };
            }
        }
        if (hp_rng_uniform(r) < OBS_CLICK_RATE * sqrt(g->prob[p])) {
            int adopted_later = own_ts > t0;
            g->ev[n++] = (synth_event){ uniform_ts(r, t0, adopted_later ? own_ts : t1), p,
                                        K_CLICKED, 1 };
        }
    }
    sort_events(g->ev, n);
    return n;
}

static void write_interactions(synth_ctx *g, hp_rng *r, const synth_customer *c)
{
    synth_out *o = &g->out[F_INTERACTIONS];
    int n = draw_events(g, r, c);
    for (int i = 0; i < n; i++) {
        const synth_event *e = &g->ev[i];
        out_str(o, c->id);
        out_str(o, ",P");
        out_uint(o, (uint64_t)e->prod + 1, 3);
        out_ch(o, ',');
        out_str(o, KIND_NAME[e->kind]);
        out_ch(o, ',');
        out_uint(o, (uint64_t)e->value, 0);
        out_ch(o, ',');
        out_ts(o, e->ts);
        out_ch(o, '\n');
    }
}

/* ================================================================== transactions */

static int pick_tx_kind(hp_rng *r, int inflow, int b2c)
{
    int total = 0;
    for (int k = 0; k < TX_OVERDRAFT; k++)
        if (TXK[k].inflow == inflow) total += b2c ? TXK[k].w_b2c : TXK[k].w_b2b;
    int x = (int)hp_rng_below(r, (uint64_t)total);
    for (int k = 0; k < TX_OVERDRAFT; k++) {
        if (TXK[k].inflow != inflow) continue;
        int w = b2c ? TXK[k].w_b2c : TXK[k].w_b2b;
        if (x < w) return k;
        x -= w;
    }
    return inflow ? TX_INVOICE : TX_SUPPLIER;
}

static int64_t month_ts(hp_rng *r, int month)
{
    int64_t a = days_from_civil(TX_YEAR, month + 1, 1);
    int64_t b = month == 11 ? days_from_civil(TX_YEAR + 1, 1, 1)
                            : days_from_civil(TX_YEAR, month + 2, 1);
    int64_t day = a + (int64_t)hp_rng_below(r, (uint64_t)(b - a));
    return day * DAY + (6 + (int64_t)hp_rng_below(r, 16)) * 3600 + (int64_t)hp_rng_below(r, 3600);
}

static int pick_month(hp_rng *r, const double *season)
{
    double x = hp_rng_uniform(r) * 12.0;
    for (int m = 0; m < 11; m++) {
        if (x < season[m]) return m;
        x -= season[m];
    }
    return 11;
}

static unsigned rand_num(hp_rng *r, int digits)
{
    static const unsigned lim[] = { 1, 10, 100, 1000, 10000, 100000 };
    return (unsigned)(lim[digits - 1] + hp_rng_below(r, lim[digits] - lim[digits - 1]));
}

/* Regular flows: inflows scale with revenue and the industry's season, and fall through the
 * year for distressed customers; outflows follow the season half as strongly. */
static int regular_tx(synth_ctx *g, hp_rng *r, const synth_customer *c, int n)
{
    const synth_industry *ind = &INDUSTRIES[c->ind];
    const double *season = g->season[ind->season];
    double tpy = g->o.tx_per_year;
    for (int i = 0; i < n; i++) {
        synth_tx *t = &g->tx[i];
        int m = pick_month(r, season), inflow = hp_rng_uniform(r) < 0.45;
        t->kind = pick_tx_kind(r, inflow, ind->b2c);
        t->ts = month_ts(r, m);
        /* so that a year's flows add up to about revenue in and 93% of it out */
        double size = c->revenue / tpy * TXK[t->kind].scale / g->tx_mean_scale[inflow][ind->b2c];
        if (inflow) {
            double decline = c->distress ? 1 - 0.055 * m : 1;
            t->amount = size / 0.45 * season[m] * decline * exp(0.5 * hp_rng_normal(r) - 0.125);
        } else {
            t->amount = -size * 0.93 / 0.55 * (0.5 + 0.5 * season[m])
                      * exp(0.6 * hp_rng_normal(r) - 0.18);
        }
        t->num = TXK[t->kind].memo_num ? rand_num(r, TXK[t->kind].memo_num) : 0;
        t->name = (unsigned)hp_rng_below(r, HP_ARRAY_LEN(NAME_A) * HP_ARRAY_LEN(NAME_B));
    }
    return n;
}

/* Distress markers: overdraft fees, bounced payments and late fees, mostly late in the year;
 * a few healthy customers get one too, so a single fee is not a perfect label. */
static int distress_tx(synth_ctx *g, hp_rng *r, const synth_customer *c, int n)
{
    int k = c->distress ? 1 + (int)hp_rng_below(r, 4) : hp_rng_uniform(r) < 0.04;
    for (int j = 0; j < k && n < g->tx_cap; j++, n++) {
        synth_tx *t = &g->tx[n];
        t->kind = TX_OVERDRAFT + (int)hp_rng_below(r, 3);
        t->ts = month_ts(r, 5 + (int)hp_rng_below(r, 7));
        if (t->kind == TX_OVERDRAFT) t->amount = -(25 + (double)hp_rng_below(r, 15));
        else if (t->kind == TX_LATE) t->amount = -(25 + (double)hp_rng_below(r, 226));
        else t->amount = -0.3 * c->revenue / g->o.tx_per_year * exp(0.5 * hp_rng_normal(r));
        t->num = TXK[t->kind].memo_num ? rand_num(r, TXK[t->kind].memo_num) : 0;
        t->name = (unsigned)hp_rng_below(r, HP_ARRAY_LEN(NAME_A) * HP_ARRAY_LEN(NAME_B));
    }
    return n;
}

static void sort_tx(synth_tx *t, int n)
{
    for (int i = 1; i < n; i++) {
        synth_tx x = t[i];
        int j = i;
        for (; j > 0 && t[j - 1].ts > x.ts; j--) t[j] = t[j - 1];
        t[j] = x;
    }
}

/* Appends s to buf (of cap bytes, NUL-terminated) at *n; cheaper than snprintf per row. */
static void buf_add(char *buf, size_t *n, size_t cap, const char *s)
{
    size_t k = strlen(s);
    if (*n + k + 1 > cap) k = cap - 1 - *n;
    memcpy(buf + *n, s, k);
    *n += k;
    buf[*n] = 0;
}

static void buf_add_uint(char *buf, size_t *n, size_t cap, unsigned v)
{
    char tmp[16];
    int k = (int)sizeof tmp - 1;
    tmp[k] = 0;
    do {
        tmp[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_add(buf, n, cap, tmp + k);
}

static void write_tx_row(synth_out *o, const synth_customer *c, const synth_tx *t)
{
    const synth_txkind *k = &TXK[t->kind];
    char text[128];
    size_t n = 0;
    out_str(o, c->id);
    out_ch(o, ',');
    out_ts(o, t->ts);
    out_ch(o, ',');
    out_fixed(o, t->amount, 2);
    out_ch(o, ',');
    out_str(o, k->category);
    out_ch(o, ',');
    if (k->counterparty) {
        buf_add(text, &n, sizeof text, k->counterparty);
    } else {
        buf_add(text, &n, sizeof text, NAME_A[t->name % HP_ARRAY_LEN(NAME_A)]);
        buf_add(text, &n, sizeof text, " ");
        buf_add(text, &n, sizeof text, NAME_B[t->name / HP_ARRAY_LEN(NAME_A)]);
    }
    out_field(o, text);
    out_ch(o, ',');
    n = 0;
    buf_add(text, &n, sizeof text, k->memo);
    if (k->memo_num) buf_add_uint(text, &n, sizeof text, t->num);
    if (k->memo_month) {
        int y, m, d;
        civil_from_days(t->ts / DAY, &y, &m, &d);
        buf_add(text, &n, sizeof text, MONTH_NAME[m - 1]);
        buf_add(text, &n, sizeof text, " ");
        buf_add_uint(text, &n, sizeof text, (unsigned)y);
    }
    out_field(o, text);
    out_ch(o, '\n');
}

static void write_transactions(synth_ctx *g, hp_rng *r, const synth_customer *c)
{
    int tpy = g->o.tx_per_year;
    if (tpy == 0) return;
    int n = (int)floor(tpy * (0.7 + 0.6 * hp_rng_uniform(r)) + 0.5);
    if (n < 1) n = 1;
    n = regular_tx(g, r, c, n);
    n = distress_tx(g, r, c, n);
    sort_tx(g->tx, n);
    for (int i = 0; i < n; i++) write_tx_row(&g->out[F_TRANSACTIONS], c, &g->tx[i]);
}

/* ================================================================== files */

static int files_open(synth_ctx *g, const char *dir, hp_error *err)
{
    for (int i = 0; i < F_COUNT; i++) {
        synth_out *o = &g->out[i];
        size_t n = strlen(dir) + strlen(FILE_NAME[i]) + 2;
        o->path = hp_malloc(n);
        o->cap = (i == F_TRANSACTIONS || i == F_TRUTH_AFF) ? (4u << 20) : (1u << 20);
        o->buf = hp_malloc(o->cap);
        if (!o->path || !o->buf)
            return hp_fail(err, HP_ERR_NOMEM, "out of memory for output buffers");
        snprintf(o->path, n, "%s/%s", dir, FILE_NAME[i]);
        o->f = fopen(o->path, "wb");
        if (!o->f)
            return hp_fail(err, HP_ERR_WRITE, "%s: cannot create: %s", o->path, strerror(errno));
    }
    return HP_OK;
}

static int file_error(const synth_ctx *g, hp_error *err)
{
    for (int i = 0; i < F_COUNT; i++)
        if (g->out[i].err)
            return hp_fail(err, HP_ERR_WRITE, "%s: write failed: %s", g->out[i].path,
                           strerror(g->out[i].err));
    return HP_OK;
}

/* Flushes and closes every file; the first failure (a full disk often shows only here) wins
 * unless an earlier error is already being reported. */
static int files_close(synth_ctx *g, int rc, hp_error *err)
{
    for (int i = 0; i < F_COUNT; i++) {
        synth_out *o = &g->out[i];
        if (o->f) {
            out_flush(o);
            errno = 0;
            if (fclose(o->f) != 0 && !o->err) o->err = errno ? errno : EIO;
            o->f = NULL;
        }
    }
    if (rc == HP_OK) rc = file_error(g, err);
    for (int i = 0; i < F_COUNT; i++) {
        hp_free(g->out[i].path);
        hp_free(g->out[i].buf);
        g->out[i].path = g->out[i].buf = NULL;
    }
    return rc;
}

static void write_headers(synth_ctx *g)
{
    static const char *const HEADER[F_COUNT] = {
        ("customer_id,industry,employees,revenue,financial_needs,preferences,region,founded,"
        "owner_gender,minority_owned,since,rm_note,message\n"),
        "product_id,name,category,term_months,risk_class,min_revenue,fee_level,description\n",
        "customer_id,product_id,kind,value,timestamp\n",
        "customer_id,timestamp,amount,category,counterparty,memo\n",
        "customer_id,distress,risk,sentiment,protected_group\n",
        "customer_id",
    };
    for (int i = 0; i < F_COUNT; i++) out_str(&g->out[i], HEADER[i]);
    for (int p = 0; p < g->np; p++) {
        out_str(&g->out[F_TRUTH_AFF], ",P");
        out_uint(&g->out[F_TRUTH_AFF], (uint64_t)p + 1, 3);
    }
    out_ch(&g->out[F_TRUTH_AFF], '\n');
}

static void write_products(synth_ctx *g)
{
    synth_out *o = &g->out[F_PRODUCTS];
    for (int i = 0; i < g->np; i++) {
        const synth_product *p = &PRODUCTS[i];
        out_ch(o, 'P');
        out_uint(o, (uint64_t)i + 1, 3);
        out_ch(o, ',');
        out_field(o, p->name);
        out_ch(o, ',');
        out_str(o, CAT_NAME[p->cat]);
        out_ch(o, ',');
        out_uint(o, (uint64_t)p->term, 0);
        out_ch(o, ',');
        out_str(o, LEVEL_NAME[p->risk]);
        out_ch(o, ',');
        out_uint(o, (uint64_t)p->min_revenue, 0);
        out_ch(o, ',');
        out_str(o, LEVEL_NAME[p->fee]);
        out_ch(o, ',');
        out_field(o, p->desc);
        out_ch(o, '\n');
    }
}

/* ---- truth.json ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", (unsigned)*s);
        else fputc(*s, f);
    }
    fputc('"', f);
}

/* Always with a '.' or exponent, so readers type it as a real even when it is whole. */
static void json_real(FILE *f, double v)
{
    char b[40];
    snprintf(b, sizeof b, "%.17g", v);
    fprintf(f, "%s%s", b, strpbrk(b, ".e") ? "" : ".0");
}

static void json_product_list(FILE *f, const synth_ctx *g, unsigned tags)
{
    int first = 1;
    fputc('[', f);
    for (int p = 0; p < g->np; p++) {
        if (!(PRODUCTS[p].tags & tags)) continue;
        fprintf(f, "%s\"P%03d\"", first ? "" : ", ", p + 1);
        first = 0;
    }
    fputc(']', f);
}

/* Writes "key": {name: [products], variant: [products], ...} for a vocabulary. */
static void json_term_map(FILE *f, const synth_ctx *g, const char *key, const synth_term *t, int n)
{
    fprintf(f, "  \"%s\": {\n", key);
    for (int i = 0; i < n; i++) {
        for (int v = 0; v < 2; v++) {
            const char *name = v ? t[i].variant : t[i].name;
            if (!name) continue;
            fputs("    ", f);
            json_str(f, name);
            fputs(": ", f);
            json_product_list(f, g, t[i].tags);
            fputs(i + 1 < n || (!v && t[i].variant) ? ",\n" : "\n", f);
        }
    }
    fputs("  },\n", f);
}

static void json_model(FILE *f, const synth_ctx *g)
{
    fputs("  \"model\": {\n    \"formula\": \"p(c,p) = sigmoid(intercept + engagement(c) + "
          "popularity(p) + industry_category x affinity(industry, category) + industry_tag "
          "[product tag favoured by industry] + category_size x slope(category) x (log10 "
          "revenue - 6.5) - revenue_short x decades below min_revenue - small_for_big x "
          "decades above $10M [small-business products] - term_young [term >= 60 months, "
          "firm < 5 years] + need [any listed or hidden need maps to p] + need_extra x "
          "(matches - 1) + preference x matching preferences - low_fees x fee_level [prefers "
          "Low Fees] + working-capital terms + growth terms + lending risk-class term + "
          "noise)\",\n    \"weights\": {\n", f);
#define X(n, v, d) fprintf(f, "      \"%s\": {\"value\": %g, \"meaning\": \"%s\"},\n", #n, v, d);
    SYNTH_WEIGHTS(X)
#undef X
    fprintf(f, "      \"distress_threshold\": {\"value\": %g, \"meaning\": \"distress when "
            "x + N(0, 0.6) exceeds it; x = -1.3 + 2 industry_risk + 0.25 (3 - size band) + "
            "0.5 [age < 4] + N(0, 0.9); risk = sigmoid(x + 1.5 distress); sentiment = "
            "tanh(0.3 - 0.8 (x + 1) - 1.3 distress + N(0, 0.45))\"}\n    },\n",
            DISTRESS_THRESHOLD);
    fputs("    \"category_size_slope\": {", f);
    for (int k = 0; k < CAT_COUNT; k++)
        fprintf(f, "%s\"%s\": %g", k ? ", " : "", CAT_NAME[k], CAT_SIZE_SLOPE[k]);
    fputs("},\n    \"popularity_logit\": {", f);
    for (int p = 0; p < g->np; p++)
        fprintf(f, "%s\"P%03d\": %.4f", p ? ", " : "", p + 1, g->pop[p]);
    fputs("},\n    \"industry_category_affinity\": {\n", f);
    for (int i = 0; i < NINDUSTRIES; i++) {
        fputs("      ", f);
        json_str(f, INDUSTRIES[i].name);
        fputs(": {", f);
        for (int k = 0; k < CAT_COUNT; k++)
            fprintf(f, "%s\"%s\": %d", k ? ", " : "", CAT_NAME[k], INDUSTRIES[i].cat[k]);
        fputs(i + 1 < NINDUSTRIES ? "},\n" : "}\n", f);
    }
    fputs("    }\n  },\n", f);
}

static int write_truth_json(const synth_ctx *g, const char *dir, hp_error *err)
{
    size_t n = strlen(dir) + 16;
    char *path = hp_malloc(n);
    if (!path) return hp_fail(err, HP_ERR_NOMEM, "out of memory");
    snprintf(path, n, "%s/truth.json", dir);
    FILE *f = fopen(path, "wb");
    if (!f) {
        int rc = hp_fail(err, HP_ERR_WRITE, "%s: cannot create: %s", path, strerror(errno));
        hp_free(path);
        return rc;
    }
    /* the seed is a string: JSON readers often stop at 2^53 or 2^63 */
    fprintf(f, "{\n  \"generator\": \"hyperp data_synth\",\n  \"version\": \"%s\",\n"
            "  \"seed\": \"%llu\",\n  \"customers\": %ld,\n  \"products\": %d,\n"
            "  \"bias\": ", DATA_SYNTH_VERSION, (unsigned long long)g->o.seed,
            g->o.customers, g->np);
    json_real(f, g->o.bias);
    fprintf(f, ",\n  \"tx_per_year\": %d,\n", g->o.tx_per_year);
    fputs("  \"interaction_window\": [\"2023-01-01T00:00:00Z\", \"2025-01-01T00:00:00Z\"],\n"
          "  \"transaction_window\": [\"2024-01-01T00:00:00Z\", \"2025-01-01T00:00:00Z\"],\n"
          "  \"protected_group\": \"1 when owner_gender is female or nonbinary or minority_owned "
          "is yes; protected attributes are drawn independently of every other attribute\",\n"
          "  \"bias_mechanism\": \"for protected_group = 1 the probability of owning (held or "
          "adopted) each product of category lending is multiplied by exp(-bias); "
          "truth_affinity.csv holds the probability before that factor\",\n", f);
    fprintf(f, "  \"observation_model\": \"each product is owned with probability p (x exp(-bias) "
            "as above); an owned product is held at the window start with probability %g, else "
            "adopted at a uniform time; %g of owned products are rated 1-5 (higher for higher "
            "log-odds); clicked with probability %g x sqrt(p), before the adoption when both; "
            "%g of customers have one hidden need that is not in financial_needs but may be "
            "named in rm_note\",\n", OBS_HELD_SHARE, OBS_RATE_SHARE, OBS_CLICK_RATE,
            HIDDEN_NEED_SHARE);
    json_model(f, g);
    json_term_map(f, g, "needs_to_products", NEEDS, N_COUNT);
    json_term_map(f, g, "preferences_to_products", PREFS, P_COUNT);
    fprintf(f, "  \"files\": [\"customers.csv\", \"products.csv\", \"interactions.csv\", "
            "\"transactions.csv\", \"truth_customers.csv\", \"truth_affinity.csv\"]\n}\n");
    int bad = ferror(f);
    errno = 0;
    if (fclose(f) != 0) bad = 1;
    int rc = bad ? hp_fail(err, HP_ERR_WRITE, "%s: write failed: %s", path,
                           errno ? strerror(errno) : "I/O error")
                 : HP_OK;
    hp_free(path);
    return rc;
}

/* ================================================================== run */

void data_synth_opts_init(data_synth_opts *o)
{
    *o = (data_synth_opts){ .customers = 10000, .seed = 42, .bias = 0.5, .tx_per_year = 12,
                            .products = 36 };
}

int data_synth_max_products(void) { return NPRODUCTS_MAX; }

int data_synth_check(const data_synth_opts *o, hp_error *err)
{
    if (o->customers < DATA_SYNTH_MIN_CUSTOMERS || o->customers > DATA_SYNTH_MAX_CUSTOMERS)
        return hp_fail(err, HP_ERR_RANGE, "customers: %ld is outside %ld..%ld", o->customers,
                       DATA_SYNTH_MIN_CUSTOMERS, DATA_SYNTH_MAX_CUSTOMERS);
    if (o->products < DATA_SYNTH_MIN_PRODUCTS || o->products > NPRODUCTS_MAX)
        return hp_fail(err, HP_ERR_RANGE, "products: %d is outside %d..%d (the catalog's size)",
                       o->products, DATA_SYNTH_MIN_PRODUCTS, NPRODUCTS_MAX);
    if (!(o->bias >= 0 && o->bias <= DATA_SYNTH_MAX_BIAS))
        return hp_fail(err, HP_ERR_RANGE, "bias: %g is outside 0..%g", o->bias,
                       DATA_SYNTH_MAX_BIAS);
    if (o->tx_per_year < 0 || o->tx_per_year > DATA_SYNTH_MAX_TX_PER_YEAR)
        return hp_fail(err, HP_ERR_RANGE, "transactions per year: %d is outside 0..%d",
                       o->tx_per_year, DATA_SYNTH_MAX_TX_PER_YEAR);
    return HP_OK;
}

/* Creates dir and its missing parents (mkdir -p). */
static int make_dirs(const char *dir, hp_error *err)
{
    char *p = hp_strdup(dir);
    if (!p) return hp_fail(err, HP_ERR_NOMEM, "out of memory");
    int rc = HP_OK;
    for (size_t i = 1, n = strlen(p); i <= n && rc == HP_OK; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        char save = p[i];
        p[i] = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            rc = hp_fail(err, HP_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
        p[i] = save;
    }
    struct stat st;
    if (rc == HP_OK && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        rc = hp_fail(err, HP_ERR_IO, "%s: not a directory", dir);
    hp_free(p);
    return rc;
}

static int ctx_init(synth_ctx *g, const data_synth_opts *o, hp_error *err)
{
    memset(g, 0, sizeof *g);
    g->o = *o;
    g->np = o->products;
    g->bias_factor = exp(-o->bias);
    g->id_width = 6;
    for (long m = 1000000; m <= o->customers; m *= 10) g->id_width++;
    hp_rng r;
    hp_rng_seed(&r, mix64(o->seed ^ 0x7f4a7c159e3779b9ULL));
    for (int p = 0; p < g->np; p++) {
        const synth_product *pr = &PRODUCTS[p];
        g->pop[p] = W.popularity * log(pr->pop / 10.0) + W.popularity_jitter_sd * hp_rng_normal(&r);
        for (int i = 0; i < N_COUNT; i++)
            if (NEEDS[i].tags & pr->tags) g->need_bits[p] |= B(i);
        for (int i = 0; i < P_COUNT; i++)
            if (PREFS[i].tags & pr->tags) g->pref_bits[p] |= B(i);
    }
    for (int s = 0; s < S_COUNT; s++) {
        double sum = 0;
        for (int m = 0; m < 12; m++) sum += SEASON[s][m];
        for (int m = 0; m < 12; m++) g->season[s][m] = SEASON[s][m] * 12.0 / sum;
    }
    for (int k = 0; k < TX_OVERDRAFT; k++)
        for (int b2c = 0; b2c < 2; b2c++) {
            int w = b2c ? TXK[k].w_b2c : TXK[k].w_b2b;
            g->tx_mean_scale[TXK[k].inflow][b2c] += w * TXK[k].scale;
        }
    for (int dir = 0; dir < 2; dir++)
        for (int b2c = 0; b2c < 2; b2c++) {
            int total = 0;
            for (int k = 0; k < TX_OVERDRAFT; k++)
                if (TXK[k].inflow == dir) total += b2c ? TXK[k].w_b2c : TXK[k].w_b2b;
            g->tx_mean_scale[dir][b2c] /= total;
        }
    g->tx_cap = (int)(o->tx_per_year * 1.3) + 8;
    g->ev = hp_malloc(sizeof *g->ev * 3 * (size_t)g->np);
    g->tx = hp_malloc(sizeof *g->tx * (size_t)g->tx_cap);
    g->logit = hp_malloc(sizeof *g->logit * (size_t)g->np);
    g->prob = hp_malloc(sizeof *g->prob * (size_t)g->np);
    if (!g->ev || !g->tx || !g->logit || !g->prob)
        return hp_fail(err, HP_ERR_NOMEM, "out of memory for the generator's work buffers");
    return HP_OK;
}

static void ctx_free(synth_ctx *g)
{
    hp_free(g->ev);
    hp_free(g->tx);
    hp_free(g->logit);
    hp_free(g->prob);
}

static void progress(const synth_ctx *g, const char *stage, double fraction)
{
    if (g->o.progress) g->o.progress(g->o.progress_ctx, stage, fraction);
}

/* The order of random draws per customer is part of the format: changing it changes the data
 * of every seed, which needs a DATA_SYNTH_VERSION bump. */
static int generate_customers(synth_ctx *g, hp_error *err)
{
    long n = g->o.customers, step = n / 100 > 0 ? n / 100 : 1;
    synth_customer c;
    hp_rng r;
    for (long i = 0; i < n; i++) {
        memset(&c, 0, sizeof c);
        customer_make(g, i, &c, &r);
        write_customer_row(g, &r, &c);
        customer_affinity(g, &r, &c);
        write_truth_rows(g, &c);
        write_interactions(g, &r, &c);
        write_transactions(g, &r, &c);
        if ((i + 1) % step == 0 || i + 1 == n) {
            progress(g, "customers", (double)(i + 1) / (double)n);
            int rc = file_error(g, err);
            if (rc) return rc;
        }
    }
    return HP_OK;
}

int data_synth_run(const data_synth_opts *opts, const char *out_dir, hp_error *err)
{
    data_synth_opts defaults;
    if (!opts) {
        data_synth_opts_init(&defaults);
        opts = &defaults;
    }
    if (!out_dir || !*out_dir) return hp_fail(err, HP_ERR_INVAL, "output directory: not given");
    int rc = data_synth_check(opts, err);
    if (rc) return rc;
    rc = make_dirs(out_dir, err);
    if (rc) return rc;
    synth_ctx *g = hp_calloc(1, sizeof *g);
    if (!g) return hp_fail(err, HP_ERR_NOMEM, "out of memory");
    rc = ctx_init(g, opts, err);
    if (rc == HP_OK) rc = files_open(g, out_dir, err);
    if (rc == HP_OK) {
        write_headers(g);
        write_products(g);
        rc = generate_customers(g, err);
    }
    rc = files_close(g, rc, err);
    if (rc == HP_OK) rc = write_truth_json(g, out_dir, err);
    if (rc == HP_OK) progress(g, "done", 1.0);
    ctx_free(g);
    hp_free(g);
    return rc;
}

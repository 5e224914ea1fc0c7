# Writes a 20-column customer-like CSV of N rows (awk -v N=1000000 -f gen_wide.awk).
# Columns: id, 8 numeric, 4 categorical, 2 bands, 2 multi lists, 1 date, 2 text.
BEGIN {
    srand(42);
    split("Retail,Construction,Healthcare,IT Services,Agriculture,Logistics,Hospitality,Manufacturing", ind, ",");
    split("10-50,50-200,200-500,500-1000,1000-5000,5000+", emp, ",");
    split("1M-5M,5M-20M,20M-50M,50M-80M,80M-150M,1.5B+", rev, ",");
    split("Business Loans,Payment Processing,Treasury Services,Trade Finance,Equipment Leasing,Commercial Cards", need, ",");
    split("north,south,east,west", reg, ",");
    split("low,medium,high", tier, ",");
    print "id,n1,n2,n3,n4,n5,n6,n7,n8,industry,region,tier,segment,employees,revenue,needs,prefs,since,note,memo";
    for (i = 1; i <= N; i++) {
        printf "C%07d", i;
        for (k = 1; k <= 8; k++) printf ",%.2f", rand() * 1000 - 200;
        printf ",%s,%s,%s,S%d", ind[int(rand() * 8) + 1], reg[int(rand() * 4) + 1], tier[int(rand() * 3) + 1], int(rand() * 20);
        printf ",%s,%s", emp[int(rand() * 6) + 1], rev[int(rand() * 6) + 1];
        printf ",\"%s, %s\",\"%s, %s\"", need[int(rand() * 6) + 1], need[int(rand() * 6) + 1], need[int(rand() * 6) + 1], need[int(rand() * 6) + 1];
        printf ",20%02d-%02d-%02d", int(rand() * 24), int(rand() * 12) + 1, int(rand() * 28) + 1;
        printf ",steady growth reported,invoice %d paid\n", int(rand() * 100000);
    }
}

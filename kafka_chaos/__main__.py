from kafka_chaos.cli import main

main()
